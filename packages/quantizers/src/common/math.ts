/** Small numeric building blocks shared by the quantizers. */
import * as tf from '@tensorflow/tfjs-core';

/** torch.nn.functional.normalize's eps: a vector is divided by max(‖x‖₂, 1e-12). */
export const L2_NORMALIZE_EPS = 1e-12;

/**
 * x / max(‖x‖₂, 1e-12) along the last axis, as F.normalize(x, dim=-1). The clamp is taken on the
 * squared norm (max(Σx², 1e-24), the same value) so that a zero vector has a zero gradient instead of
 * the NaN that sqrt'(0) would give, matching torch's subgradient.
 */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const sumSq = tf.sum(tf.square(x), -1, true);
    return tf.div(x, tf.sqrt(tf.maximum(sumSq, L2_NORMALIZE_EPS * L2_NORMALIZE_EPS)));
  });
}

/**
 * Squared Euclidean distances between the rows of z [N,d] and of codes [K,d], by the official formula
 * ‖z‖² + ‖e‖² − 2·z·eᵀ, with no [N,K,d] broadcast. All three terms come out of one matrix product of
 * augmented rows, [z, 1, ‖z‖²]·[−2e, ‖e‖², 1]ᵀ, so no elementwise pass over the [N,K] result is needed
 * (tfjs-cpu's broadcasting add over [N,K] alone costs several times the product).
 */
export function squaredDistances(z: tf.Tensor2D, codes: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const zz = tf.sum(tf.square(z), 1, true);
    const ee = tf.sum(tf.square(codes), 1, true);
    const left = tf.concat([z, tf.onesLike(zz), zz], 1);
    const right = tf.concat([tf.mul(codes, -2), ee, tf.onesLike(ee)], 1);
    return tf.matMul(left, right, false, true) as tf.Tensor2D;
  });
}

/** Backends whose ArgMin kernel returns the first index of equal minima, as torch.argmin does. */
const FIRST_INDEX_ARGMIN = new Set(['cpu', 'wasm']);

/**
 * argmin over the last axis of [N,K] with ties resolved to the first index (torch's rule). tfjs-webgpu's
 * ArgMin reduces in parallel and may return a later index of a tie, so elsewhere the first index is
 * found explicitly: the smallest k whose value equals the row minimum. int32 [N].
 */
export function argMinFirst(x: tf.Tensor2D): tf.Tensor1D {
  if (FIRST_INDEX_ARGMIN.has(tf.getBackend())) return tf.argMin(x, 1) as tf.Tensor1D;
  return tf.tidy(() => {
    const k = x.shape[1];
    const isMin = tf.equal(x, tf.min(x, 1, true));
    const position = tf.reshape(tf.range(0, k, 1, 'float32'), [1, k]);
    const candidate = tf.where(isMin, tf.broadcastTo(position, x.shape), tf.fill(x.shape, k, 'float32'));
    return tf.cast(tf.min(candidate, 1), 'int32') as tf.Tensor1D;
  });
}

/**
 * Σ of the rows of `values` [N, ...] that share a segment id: [numSegments, ...], ids int32 [N] in
 * [0, numSegments). The same result as tf.unsortedSegmentSum, through ScatterNd (which adds duplicate
 * ids): tfjs-cpu (and wasm, which borrows it) runs UnsortedSegmentSum as one masked reduction per segment,
 * O(numSegments) ops, far too slow for a 4096-code histogram; ScatterNd is one pass over N.
 */
export function segmentSum(values: tf.Tensor, ids: tf.Tensor1D, numSegments: number): tf.Tensor {
  return tf.tidy(() => tf.scatterND(tf.reshape(ids, [-1, 1]), values, [numSegments, ...values.shape.slice(1)]));
}
