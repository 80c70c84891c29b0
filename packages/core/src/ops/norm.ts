/**
 * LayerNorm and GroupNorm as composites over mean/square/rsqrt, so they differentiate on every
 * backend. Both use the biased variance (divide by N), as PyTorch's layer_norm and group_norm do.
 * Broadcasting arithmetic runs on tensors of rank <= 4: tfjs-webgpu 4.22 emits invalid WGSL for
 * broadcasting binary ops at rank 5 (and silently returns garbage).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { assertFloat, assertMinRank, assertPositiveInt, assertShape, formatShape } from './validate';

/** (x − mean) / sqrt(var + eps) over `axes`, statistics kept broadcastable. */
function normalize(x: tf.Tensor, axes: number[], eps: number): tf.Tensor {
  const mean = tf.mean(x, axes, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axes, true);
  return tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
}

/** Per-channel scale and shift over the last axis, applied on a [rows, C] view. */
function affine(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined): tf.Tensor {
  if (!gamma && !beta) return x;
  let y = tf.reshape(x, [-1, x.shape[x.rank - 1]]);
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return tf.reshape(y, x.shape);
}

function checkAffine(t: tf.Tensor | undefined, size: number, op: string, name: string): void {
  if (!t) return;
  assertFloat(t, op, name);
  assertShape(t, [size], op, name);
}

/**
 * Layer normalisation over the last axis (torch.nn.functional.layer_norm with
 * normalized_shape = [x.shape[-1]]). `gamma` and `beta` have shape [C].
 */
export function layerNorm(x: tf.Tensor, gamma?: tf.Tensor, beta?: tf.Tensor, eps = 1e-5): tf.Tensor {
  const op = 'layerNorm';
  assertFloat(x, op);
  assertMinRank(x, 1, op);
  const c = x.shape[x.rank - 1];
  checkAffine(gamma, c, op, 'gamma');
  checkAffine(beta, c, op, 'beta');
  return tf.tidy(() => {
    const rows = tf.reshape(x, [-1, c]);
    return tf.reshape(affine(normalize(rows, [1], eps), gamma, beta), x.shape);
  });
}

/**
 * Group normalisation for channels-last tensors [B, ...spatial, C] of any rank >= 3 (NHWC, NDHWC,
 * or [B,N,C]). Channels split into `numGroups` contiguous groups, as torch.nn.GroupNorm does on
 * [B,C,...]; the statistics of a group span all spatial positions (frames included) and its C/G
 * channels. `gamma` and `beta` are per channel, shape [C].
 */
export function groupNorm(x: tf.Tensor, numGroups: number, gamma?: tf.Tensor, beta?: tf.Tensor, eps = 1e-5): tf.Tensor {
  const op = 'groupNorm';
  assertFloat(x, op);
  assertMinRank(x, 3, op, 'x', '[B,...spatial,C]');
  assertPositiveInt(numGroups, op, 'numGroups');
  const c = x.shape[x.rank - 1];
  if (c % numGroups !== 0) {
    throw new ShapeError(`${op}: channels (${c}, last dimension of ${formatShape(x.shape)}) must be divisible by numGroups ${numGroups}`);
  }
  checkAffine(gamma, c, op, 'gamma');
  checkAffine(beta, c, op, 'beta');
  return tf.tidy(() => {
    const b = x.shape[0];
    const spatial = x.size / (b * c);
    const g = numGroups;
    // [B, S, G, C/G]: a group's statistics are over axes S and C/G.
    const grouped = tf.reshape(x, [b, spatial, g, c / g]);
    const mean = groupStatistic(grouped, spatial);
    const centered = tf.sub(grouped, mean);
    const variance = groupStatistic(tf.square(centered), spatial);
    const normalized = tf.reshape(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), x.shape);
    return affine(normalized, gamma, beta);
  });
}

/**
 * The largest divisor of n that is at most √n (1 for a prime): splits n terms into equal blocks.
 */
function balancedDivisor(n: number): number {
  for (let d = Math.floor(Math.sqrt(n)); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * Mean of `grouped` [B, S, G, C/G] over S and C/G, as [B, 1, G, 1]. A float32 sum over all S·C/G terms
 * at once drifts with the count (2e-4 of the output at 256²×128 with a non-zero mean, against
 * PyTorch's pairwise sums), so the sum runs in stages — channels, then S as blocks of ~√S positions,
 * then the blocks — none longer than ~√S terms. Equal-sized blocks keep the mean of means exact.
 */
function groupStatistic(grouped: tf.Tensor, spatial: number): tf.Tensor {
  const [b, , g] = grouped.shape as [number, number, number, number];
  const perPosition = tf.mean(grouped, 3); // [B, S, G]
  const block = balancedDivisor(spatial);
  const blocks = tf.mean(tf.reshape(perPosition, [b, spatial / block, block, g]), 2); // [B, S/block, G]
  return tf.reshape(tf.mean(blocks, 1), [b, 1, g, 1]);
}
