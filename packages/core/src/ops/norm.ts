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
    // [B, S, G, C/G]: a group's statistics are over axes S and C/G.
    const grouped = tf.reshape(x, [b, spatial, numGroups, c / numGroups]);
    const normalized = tf.reshape(normalize(grouped, [1, 3], eps), x.shape);
    return affine(normalized, gamma, beta);
  });
}
