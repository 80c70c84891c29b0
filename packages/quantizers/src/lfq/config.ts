/**
 * LookupFreeQuantizer configuration. Names are the official ones in camelCase, from
 * lucidrains/vector-quantize-pytorch `LFQ` (`dim`, `codebook_size`, `entropy_loss_weight`,
 * `commitment_loss_weight`, `diversity_gamma`, `codebook_scale`, forward's `inv_temperature`) and
 * Open-MAGVIT2 `LFQ` (`sample_minimization_weight`, `factorized_bits`); `bitOrder`, `entropyFormula`,
 * `codebookEntropyGroups` and `checkValues` say how the two differ and how the large-K estimate is taken.
 */
import { ConfigError, assertFiniteNumber } from '@vtok/core';
import { type ValueCheck, resolveValueCheck } from '../common/validate';

/**
 * Which channel is the least significant bit of a token id. 'lsb': channel 0 = 2^0 (the paper,
 * Open-MAGVIT2 v2 and later, its released checkpoints); 'msb': channel 0 = 2^(d-1) (lucidrains, and
 * Open-MAGVIT2 v1's encoder).
 */
export type LfqBitOrder = 'lsb' | 'msb';

/**
 * How the official code takes logarithms in the entropy terms (both use eps = 1e-5):
 * - 'open-magvit2': per-sample entropy exact (`log_softmax`), codebook entropy `-Σ p̄·log(p̄ + 1e-5)`;
 * - 'lucidrains': both terms `-Σ p·log(max(p, 1e-5))`.
 */
export type LfqEntropyFormula = 'open-magvit2' | 'lucidrains';

export interface LfqConfig {
  /** Input feature dimension = number of bits d = log2(codebookSize). Give this or `codebookSize`. */
  dim?: number;
  /** Number of codes K = 2^dim (at most 2^24, so ids stay exact in float32 and int32). */
  codebookSize?: number;
  /** Weight of the entropy term in `aux` (lucidrains `entropy_loss_weight`; Open-MAGVIT2's `codebook_weight` 0.1). Default 0.1. */
  entropyLossWeight?: number;
  /** Weight of the commitment term in `aux` (Open-MAGVIT2's `commit_weight` 0.25; lucidrains' default is 0). Default 0.25. */
  commitmentLossWeight?: number;
  /** Weight of the codebook entropy inside the entropy term (Open-MAGVIT2 `batch_maximization_weight`). Default 1. */
  diversityGamma?: number;
  /** Weight of the per-sample entropy inside the entropy term (Open-MAGVIT2 only). Default 1. */
  sampleMinimizationWeight?: number;
  /** Soft assignments are softmax(2·invTemperature·⟨z, c⟩) (Open-MAGVIT2 hard-codes 100 = 1/0.01). Default 100. */
  invTemperature?: number;
  /** Codes are ±codebookScale per channel. Default 1. */
  codebookScale?: number;
  /** Default 'lsb'. */
  bitOrder?: LfqBitOrder;
  /** Default 'open-magvit2'. */
  entropyFormula?: LfqEntropyFormula;
  /**
   * Bits per group for the codebook-entropy estimate, summing to d, over consecutive channels. One group
   * `[d]` is the exact official formula (a [N, K] softmax); several groups sum the exact entropies of each
   * group's 2^g-way code distribution, an upper bound of the joint one that never materialises K columns.
   * Default: `[d]` up to d = 12 (K = 4096), else ceil(d/12) near-equal groups ([9, 9] for K = 2^18).
   */
  codebookEntropyGroups?: readonly number[];
  /** Sub-token bits for token factorisation (Open-MAGVIT2 `factorized_bits`, e.g. [6, 12] or [9, 9]); used by `factorization()`. */
  factorizedBits?: readonly number[];
  /** When the NaN/Inf and id-range checks run synchronously (default 'auto': on cpu and wasm). */
  checkValues?: ValueCheck;
}

export interface ResolvedLfqConfig {
  readonly dim: number;
  readonly codebookSize: number;
  readonly entropyLossWeight: number;
  readonly commitmentLossWeight: number;
  readonly diversityGamma: number;
  readonly sampleMinimizationWeight: number;
  readonly invTemperature: number;
  readonly codebookScale: number;
  readonly bitOrder: LfqBitOrder;
  readonly entropyFormula: LfqEntropyFormula;
  readonly codebookEntropyGroups: readonly number[];
  readonly factorizedBits: readonly number[] | null;
  readonly checkValues: ValueCheck;
}

/** Largest number of bits: ids below 2^24 are exact in float32, which the index arithmetic relies on. */
export const LFQ_MAX_BITS = 24;
/** Up to this many bits the codebook entropy is exact by default (a [N, 4096] softmax). */
export const LFQ_FULL_ENTROPY_MAX_BITS = 12;

export const LFQ_DEFAULTS = {
  entropyLossWeight: 0.1,
  commitmentLossWeight: 0.25,
  diversityGamma: 1,
  sampleMinimizationWeight: 1,
  invTemperature: 100,
  codebookScale: 1,
  bitOrder: 'lsb',
  entropyFormula: 'open-magvit2',
} as const satisfies Partial<LfqConfig>;

/**
 * The settings that reproduce each official implementation (spread them into a config):
 * `new LookupFreeQuantizer({ dim: 18, ...LFQ_PRESETS.openMagvit2 })`. Open-MAGVIT2 applies its weights
 * outside the quantizer (`0.1·(H_sample − H_codebook) + 0.25·commit`), which is `aux` here.
 */
export const LFQ_PRESETS = {
  openMagvit2: {
    bitOrder: 'lsb',
    entropyFormula: 'open-magvit2',
    entropyLossWeight: 0.1,
    commitmentLossWeight: 0.25,
    diversityGamma: 1,
    sampleMinimizationWeight: 1,
    invTemperature: 100,
    codebookScale: 1,
  },
  lucidrains: {
    bitOrder: 'msb',
    entropyFormula: 'lucidrains',
    entropyLossWeight: 0.1,
    commitmentLossWeight: 0,
    diversityGamma: 1,
    sampleMinimizationWeight: 1,
    invTemperature: 100,
    codebookScale: 1,
  },
} as const satisfies Record<string, Partial<LfqConfig>>;

const WHO = 'LookupFreeQuantizer';

/** Near-equal split of d bits into ceil(d / maxBits) groups, larger groups first. */
export function defaultLfqEntropyGroups(bits: number, maxBits = LFQ_FULL_ENTROPY_MAX_BITS): number[] {
  const count = Math.ceil(bits / maxBits);
  const base = Math.floor(bits / count);
  return Array.from({ length: count }, (_, i) => base + (i < bits % count ? 1 : 0));
}

export function resolveLfqConfig(config: LfqConfig): ResolvedLfqConfig {
  if (config == null || typeof config !== 'object') throw new ConfigError(`${WHO}: expected a config object, got ${String(config)}`);
  const { dim, codebookSize } = resolveSizes(config.dim, config.codebookSize);
  const num = (name: keyof typeof LFQ_DEFAULTS & keyof LfqConfig, bound: { exclusive: boolean }): number => {
    const value = (config[name] ?? LFQ_DEFAULTS[name]) as unknown;
    assertFiniteNumber(value, WHO, name, { min: 0, exclusive: bound.exclusive, ErrorClass: ConfigError });
    return value;
  };
  const nonNegative = { exclusive: false };
  const positive = { exclusive: true };
  const bitOrder = config.bitOrder ?? LFQ_DEFAULTS.bitOrder;
  if (bitOrder !== 'lsb' && bitOrder !== 'msb') throw new ConfigError(`${WHO}: bitOrder must be 'lsb' or 'msb', got ${String(bitOrder)}`);
  const entropyFormula = config.entropyFormula ?? LFQ_DEFAULTS.entropyFormula;
  if (entropyFormula !== 'open-magvit2' && entropyFormula !== 'lucidrains') {
    throw new ConfigError(`${WHO}: entropyFormula must be 'open-magvit2' or 'lucidrains', got ${String(entropyFormula)}`);
  }
  const codebookEntropyGroups = config.codebookEntropyGroups
    ? checkBitGroups(config.codebookEntropyGroups, dim, 'codebookEntropyGroups')
    : defaultLfqEntropyGroups(dim);
  const factorizedBits = config.factorizedBits ? checkBitGroups(config.factorizedBits, dim, 'factorizedBits') : null;
  const checkValues = resolveValueCheck(config.checkValues, WHO);
  return {
    dim,
    codebookSize,
    entropyLossWeight: num('entropyLossWeight', nonNegative),
    commitmentLossWeight: num('commitmentLossWeight', nonNegative),
    diversityGamma: num('diversityGamma', nonNegative),
    sampleMinimizationWeight: num('sampleMinimizationWeight', nonNegative),
    invTemperature: num('invTemperature', positive),
    codebookScale: num('codebookScale', positive),
    bitOrder,
    entropyFormula,
    codebookEntropyGroups,
    factorizedBits,
    checkValues,
  };
}

function resolveSizes(dim: unknown, codebookSize: unknown): { dim: number; codebookSize: number } {
  if (dim === undefined && codebookSize === undefined) throw new ConfigError(`${WHO}: give dim or codebookSize (or both)`);
  if (dim !== undefined && (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1 || dim > LFQ_MAX_BITS)) {
    throw new ConfigError(`${WHO}: dim must be an integer in [1, ${LFQ_MAX_BITS}], got ${String(dim)}`);
  }
  if (codebookSize !== undefined) {
    const bits = typeof codebookSize === 'number' ? Math.log2(codebookSize) : NaN;
    if (!Number.isInteger(bits) || bits < 1 || bits > LFQ_MAX_BITS) {
      throw new ConfigError(`${WHO}: codebookSize must be a power of 2 in [2, 2^${LFQ_MAX_BITS}], got ${String(codebookSize)}`);
    }
    if (dim !== undefined && dim !== bits) {
      // The official LFQ would add Linear projections here; this port has none (neither golden case uses them).
      throw new ConfigError(
        `${WHO}: dim ${String(dim)} must equal log2(codebookSize) = ${bits} (input projections are not supported)`,
      );
    }
    return { dim: bits, codebookSize: codebookSize as number };
  }
  return { dim: dim as number, codebookSize: 2 ** (dim as number) };
}

/** A list of positive integer bit counts that sums to `total`. */
export function checkBitGroups(groups: readonly number[], total: number, name: string, who = WHO): number[] {
  if (!Array.isArray(groups) || groups.length === 0) throw new ConfigError(`${who}: ${name} must be a non-empty array of bit counts, got ${String(groups)}`);
  for (const g of groups) {
    if (typeof g !== 'number' || !Number.isInteger(g) || g < 1) {
      throw new ConfigError(`${who}: ${name} must hold positive integers, got [${groups.join(', ')}]`);
    }
  }
  const sum = groups.reduce((a, b) => a + b, 0);
  if (sum !== total) throw new ConfigError(`${who}: ${name} [${groups.join(', ')}] sums to ${sum} bits, expected ${total}`);
  return [...groups];
}
