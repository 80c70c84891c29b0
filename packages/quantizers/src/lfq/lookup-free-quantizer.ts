/**
 * Lookup-free quantisation (MAGVIT-v2), numerically as lucidrains/vector-quantize-pytorch `LFQ` and
 * Open-MAGVIT2 `LFQ` compute it (choose with `bitOrder` / `entropyFormula`, or spread `LFQ_PRESETS`).
 *
 * Per channel q_i = +s if z_i > 0 else -s (an exact 0 gives -s); the output is q with the gradient passed
 * straight through to z. The id is Σ_i [z_i > 0]·2^i ('lsb') or ·2^(d-1-i) ('msb'). No parameters.
 *
 * Losses (training only; official names in brackets):
 *   perSampleEntropy  [per_sample_entropy / sample_entropy]  mean over tokens of H(p(z))
 *   codebookEntropy   [batch_entropy / codebook_entropy / avg_entropy]  H(mean over tokens of p(z))
 *   commitment        [commitment / commit_loss]  mean((z - q)²), q constant; 0 when its weight is 0 (as lucidrains)
 *   aux = entropyLossWeight·(sampleMinimizationWeight·perSampleEntropy − diversityGamma·codebookEntropy)
 *         + commitmentLossWeight·commitment
 *       = lucidrains `aux_loss`; = Open-MAGVIT2's quantizer loss `codebook_weight·entropy_aux_loss +
 *         commit_weight·commitment` with its weights (0.1, 0.25), i.e. the defaults.
 * `aux` is usually negative (the codebook entropy is up to d·ln 2); that is expected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type QuantizeOptions, type QuantizeResult, type Quantizer, type SpecificationVersion, straightThrough } from '@vtok/core';
import { assertCodeIndices, assertQuantizerInput } from '../common/validate';
import { TokenFactorization } from '../factorize';
import { codesFromIds, idsFromSigns } from './bits';
import { type LfqConfig, type ResolvedLfqConfig, resolveLfqConfig } from './config';
import { noGrad } from './detached';
import { bitLogits, codebookEntropy, perSampleEntropyClamped, perSampleEntropyExact } from './entropy';

/** The named losses of a training call, all scalars. */
export interface LfqLosses {
  aux: tf.Scalar;
  perSampleEntropy: tf.Scalar;
  codebookEntropy: tf.Scalar;
  commitment: tf.Scalar;
}

export class LookupFreeQuantizer implements Quantizer {
  readonly specificationVersion: SpecificationVersion = 'v1';
  readonly type = 'lfq';
  readonly dim: number;
  readonly codebookSize: number;
  readonly config: ResolvedLfqConfig;

  constructor(config: LfqConfig) {
    this.config = Object.freeze(resolveLfqConfig(config));
    this.dim = this.config.dim;
    this.codebookSize = this.config.codebookSize;
  }

  /**
   * z [..., dim] float32 → quantized (same shape, ±codebookScale, straight-through gradient), int32
   * indices [...], and in training the losses of LfqLosses (none in eval mode, where the official code
   * returns zeros).
   */
  quantize(z: tf.Tensor, options: QuantizeOptions = {}): QuantizeResult {
    assertQuantizerInput(z, this.dim, 'LookupFreeQuantizer.quantize', this.config.checkValues);
    const { codebookScale: s, bitOrder } = this.config;
    const result = tf.tidy(() => {
      const z2 = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D;
      // The sign pattern and the ids are constants for the gradient (tfjs has no gradient for Greater).
      const q = noGrad((x) => tf.sub(tf.mul(tf.cast(tf.greater(x, 0), 'float32'), 2 * s), s), z2) as tf.Tensor2D;
      const ids = noGrad((x) => idsFromSigns(x as tf.Tensor2D, bitOrder), z2);
      return {
        quantized: tf.reshape(straightThrough(z2, q), z.shape),
        indices: tf.reshape(ids, z.shape.slice(0, -1)),
        losses: options.training ? { ...this.losses(z2, q) } : {},
      };
    });
    return result as QuantizeResult;
  }

  /** The training losses of latents z [N, dim] with their codes q (see the class comment). */
  private losses(z: tf.Tensor2D, q: tf.Tensor2D): LfqLosses {
    const c = this.config;
    const losses = tf.tidy(() => {
      const a = bitLogits(z, c.codebookScale, c.invTemperature);
      const perSampleEntropy = c.entropyFormula === 'lucidrains' ? perSampleEntropyClamped(a) : perSampleEntropyExact(a);
      const codebook = codebookEntropy(a, c.codebookEntropyGroups, c.entropyFormula);
      const commitment = c.commitmentLossWeight > 0 ? (tf.mean(tf.squaredDifference(z, q)) as tf.Scalar) : tf.scalar(0);
      const entropy = tf.sub(tf.mul(perSampleEntropy, c.sampleMinimizationWeight), tf.mul(codebook, c.diversityGamma));
      const aux = tf.add(tf.mul(entropy, c.entropyLossWeight), tf.mul(commitment, c.commitmentLossWeight)) as tf.Scalar;
      return { aux, perSampleEntropy, codebookEntropy: codebook, commitment };
    });
    return losses as LfqLosses;
  }

  /** int32 ids (any shape) → codes [...ids.shape, dim] of ±codebookScale. Ids outside [0, K) are a ValueError. */
  lookup(indices: tf.Tensor): tf.Tensor {
    assertCodeIndices(indices, this.codebookSize, 'LookupFreeQuantizer.lookup', this.config.checkValues);
    return tf.tidy(() => {
      const codes = codesFromIds(tf.reshape(indices, [-1]) as tf.Tensor1D, this.dim, this.config.bitOrder, this.config.codebookScale);
      return tf.reshape(codes, [...indices.shape, this.dim]);
    });
  }

  /**
   * The token factorisation that matches this quantizer's bit order (sub-token k = channel group k),
   * e.g. `[6, 12]` for Open-MAGVIT2's AR models; default `factorizedBits` from the config.
   */
  factorization(bits: readonly number[] | undefined = this.config.factorizedBits ?? undefined): TokenFactorization {
    if (!bits) {
      throw new ConfigError('LookupFreeQuantizer.factorization: give the sub-token bits (e.g. [9, 9]) or set factorizedBits in the config');
    }
    return new TokenFactorization({ codebookSize: this.codebookSize, bits, bitOrder: this.config.bitOrder, checkValues: this.config.checkValues });
  }

  /** No tensors are held (LFQ has no parameters). */
  dispose(): void {}
}
