/**
 * Open-MAGVIT2's LFQ, built through @vtok/core's quantizer registry as `'lfq'` (@vtok/quantizers'
 * LookupFreeQuantizer): LSB-first ids (channel d is bit d, as the released checkpoints and the paper), ±1
 * codes, temperature 0.01, Open-MAGVIT2's entropy formula, and its loss weights folded into `aux` =
 * codebook_weight·(w_s·H_sample − w_b·H_codebook) + commit_weight·commitment — the quantizer part of
 * Open-MAGVIT2's training loss.
 *
 * For K = 2^18 the codebook entropy is the quantizers' sub-group estimate (two groups of 9 bits)
 * instead of the official [N, 2^18] softmax; up to 2^12 codes it is exact (see @vtok/quantizers).
 * Entropy annealing (`codebook_enlarge_ratio`, 0 in every release) depends on the training step and is
 * left to the trainer (see Magvit2Config.lfq).
 */
import { createQuantizer, type Quantizer } from '@vtok/core';
// Importing the package registers 'lfq' (and 'vq', 'fsq') with core's registry.
import { LFQ_PRESETS, type LfqConfig, TokenFactorization } from '@vtok/quantizers';
import type { Magvit2Config } from './config';

/** The registry config of Open-MAGVIT2's LFQ for a tokenizer config: `{ type: 'lfq', ... }`. */
export function magvit2QuantizerConfig(config: Magvit2Config): { type: 'lfq' } & LfqConfig {
  return {
    type: 'lfq',
    ...LFQ_PRESETS.openMagvit2,
    dim: config.embedDim,
    codebookSize: config.codebookSize,
    entropyLossWeight: config.lfq.codebookWeight,
    commitmentLossWeight: config.lfq.commitWeight,
    sampleMinimizationWeight: config.lfq.sampleMinimizationWeight,
    diversityGamma: config.lfq.batchMaximizationWeight,
    factorizedBits: config.lfq.factorizedBits,
  };
}

/** The tokenizer's quantizer: `createQuantizer(magvit2QuantizerConfig(config))`. */
export function createMagvit2Quantizer(config: Magvit2Config): Quantizer {
  return createQuantizer(magvit2QuantizerConfig(config));
}

/**
 * Sub-token split of the tokenizer's ids for generators over 2^18 vocabularies: `bits` defaults to the
 * config's `factorized_bits` ([9, 9] unless set; Open-MAGVIT2's AR models use [6, 12]). With LSB-first
 * ids, id = sub₀ + 2^bits[0]·sub₁.
 */
export function magvit2TokenFactorization(config: Magvit2Config, bits: readonly number[] = config.lfq.factorizedBits): TokenFactorization {
  return new TokenFactorization({ codebookSize: config.codebookSize, bits, bitOrder: 'lsb' });
}
