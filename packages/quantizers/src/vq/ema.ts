/**
 * Exponential-moving-average codebook update (VQ-VAE-2 / lucidrains' EuclideanCodebook): every code
 * moves towards the mean of the latents assigned to it.
 *
 *   N_k ← decay·N_k + (1−decay)·n_k            n_k = latents assigned to code k in this call
 *   m_k ← decay·m_k + (1−decay)·Σ_{i→k} z_i
 *   e_k = m_k / Ñ_k,   Ñ_k = (N_k + eps) / (ΣN + K·eps) · ΣN      (Laplace smoothing)
 *
 * Only N (`cluster_size`) is stored: the running sum m is recovered as e_k·Ñ_k from the codebook itself,
 * which is what the recursion above keeps true. So a codebook loaded from a checkpoint (or edited by a
 * dead-code restart) is the starting point of the next update, with no second copy to fall out of step.
 * With N = 1 for every code (the initial value), Ñ = 1 and m = e.
 */
import * as tf from '@tensorflow/tfjs-core';
import { segmentSum } from '../common/math';

/** Ñ: Laplace-smoothed cluster sizes, [K]. */
export function laplaceSmoothed(clusterSize: tf.Tensor1D, eps: number): tf.Tensor1D {
  return tf.tidy(() => {
    const total = tf.sum(clusterSize);
    const k = clusterSize.shape[0];
    return tf.mul(tf.div(tf.add(clusterSize, eps), tf.add(total, k * eps)), total) as tf.Tensor1D;
  });
}

export interface EmaStep {
  /** The codes as matched against (l2-normalised when the quantizer normalises), [K,d]. */
  codes: tf.Tensor2D;
  clusterSize: tf.Tensor1D;
  /** Latents of this call, in the space of `codes`, [N,d]. */
  latents: tf.Tensor2D;
  /** Code of each latent, int32 [N]. */
  indices: tf.Tensor1D;
  /** Latents per code in this call, [K]. */
  histogram: tf.Tensor1D;
  decay: number;
  eps: number;
}

/** One EMA step: the new codebook [K,d] and cluster sizes [K]. */
export function emaCodebookUpdate(s: EmaStep): { codes: tf.Tensor2D; clusterSize: tf.Tensor1D } {
  return tf.tidy(() => {
    const k = s.codes.shape[0];
    const runningSum = tf.mul(s.codes, tf.reshape(laplaceSmoothed(s.clusterSize, s.eps), [k, 1]));
    const assignedSum = segmentSum(s.latents, s.indices, k);
    const clusterSize = tf.add(tf.mul(s.clusterSize, s.decay), tf.mul(s.histogram, 1 - s.decay)) as tf.Tensor1D;
    const newSum = tf.add(tf.mul(runningSum, s.decay), tf.mul(assignedSum, 1 - s.decay));
    const codes = tf.div(newSum, tf.reshape(laplaceSmoothed(clusterSize, s.eps), [k, 1])) as tf.Tensor2D;
    return { codes, clusterSize };
  });
}
