/**
 * The quantizer's part of a tokenizer's training loss, from the named losses a quantizer returns (core's
 * `QuantizeResult.losses`); nothing of the quantizer math is computed again here.
 *
 * - VQ (`@vtok/quantizers`' VectorQuantizer): `total` = β·commitment + codebook, 1d-tokenizer's
 *   `quantizer_loss`, times `quantizer_weight` (1.0 in stage 1 and the single-stage configs, 0 in stage 2).
 * - LFQ: `aux` = codebook_weight·(w_s·H_sample − w_b·H_codebook) + commit_weight·commitment with the
 *   quantizer's own weights; its defaults are Open-MAGVIT2's 0.1·(H_sample − H_codebook) + 0.25·commit.
 * - Quantizers without losses (FSQ, or any quantizer called without `training`): zero.
 * - Anything else, or other weights: `terms`, a weighted sum of named losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ValueError, assertFiniteNumber } from '@vtok/core';
import { assertFloatTensor } from './check';

export interface QuantizerLossWeights {
  /** Multiplies the whole result (1d-tokenizer's `quantizer_weight`). Default 1. */
  weight?: number;
  /**
   * A weighted sum of the named losses instead of the quantizer's own combination, e.g. Open-MAGVIT2's
   * `{ perSampleEntropy: 0.1, codebookEntropy: -0.1, commitment: 0.25 }` for an LFQ built with other weights.
   * Every name must be among the losses.
   */
  terms?: Readonly<Record<string, number>>;
}

/** The official recipes' weights. */
export const OFFICIAL_QUANTIZER_LOSS = {
  /** TiTok stage 1 and the single-stage tokenizers: quantizer_weight 1.0 on the VQ's `total`. */
  titokStage1: { weight: 1 },
  /** TiTok stage 2: quantizer_weight 0.0 (the quantizer is frozen). */
  titokStage2: { weight: 0 },
  /** Open-MAGVIT2, whatever weights the LFQ was built with: 0.1·(H_sample − H_codebook) + 0.25·commitment. */
  openMagvit2: { terms: { perSampleEntropy: 0.1, codebookEntropy: -0.1, commitment: 0.25 } },
} as const satisfies Record<string, QuantizerLossWeights>;

const WHO = 'quantizerLoss';

/**
 * The quantizer loss of one quantizer call as a scalar the caller owns (see the module comment for what is
 * combined). `result` is a quantizer's result, or anything carrying its `losses` (e.g.
 * `Magvit2Model.forward(x, { training: true })`); its tensors stay the caller's.
 */
export function quantizerLoss(result: { readonly losses: Readonly<Record<string, tf.Scalar>> }, weights: QuantizerLossWeights = {}): tf.Scalar {
  const losses = result?.losses;
  if (losses === null || typeof losses !== 'object') throw new ValueError(`${WHO}: expected a quantizer result with named losses, got ${losses === undefined ? 'no losses' : String(losses)}`);
  const weight = weights.weight ?? 1;
  assertFiniteNumber(weight, WHO, 'weights.weight');
  const names = Object.keys(losses);
  const terms = weights.terms ?? defaultTerms(names);
  for (const [name, w] of Object.entries(terms)) {
    assertFiniteNumber(w, WHO, `the weight of "${name}"`);
    if (!Object.prototype.hasOwnProperty.call(losses, name)) {
      throw new ValueError(`${WHO}: the quantizer returned no "${name}" loss; it returned ${list(names)} (LFQ returns its losses only with { training: true })`);
    }
    const t = losses[name];
    assertFloatTensor(t, WHO, `the "${name}" loss`);
    if (t.rank !== 0) throw new ValueError(`${WHO}: the "${name}" loss must be a scalar, got rank ${t.rank}`);
  }
  return tf.tidy(() => {
    let sum: tf.Tensor = tf.scalar(0);
    for (const [name, w] of Object.entries(terms)) sum = tf.add(sum, tf.mul(losses[name], w));
    return tf.mul(sum, weight) as tf.Scalar;
  });
}

/** What the quantizer combined itself: VQ's `total`, LFQ's `aux`, nothing for none. */
function defaultTerms(names: string[]): Record<string, number> {
  if (names.length === 0) return {};
  if (names.includes('total')) return { total: 1 };
  if (names.includes('aux')) return { aux: 1 };
  throw new ValueError(`${WHO}: the quantizer returned ${list(names)}; expected "total" (VQ) or "aux" (LFQ), or name the terms to add in weights.terms`);
}

const list = (names: string[]) => (names.length ? names.map((n) => `"${n}"`).join(', ') : 'no losses');
