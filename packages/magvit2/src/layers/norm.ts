/**
 * The normalisations of the Open-MAGVIT2 tokenizer, for images (NHWC) and clips (NDHWC).
 *
 * Over a clip there are two ways to take GroupNorm statistics:
 * - 'clip' (the official setting): one set of statistics per (sample, group) over every frame at once,
 *   exactly as torch.nn.GroupNorm on [B, C, T, H, W]. Later frames then change how earlier frames are
 *   normalised, so frame 0 of a clip does not tokenise as the same image alone.
 * - 'causal': frame t is normalised with the statistics of frames 0..t (cumulative). Frame 0 then sees
 *   only itself, so it tokenises exactly as the image alone; at the last frame the statistics are the
 *   official whole-clip ones, which keeps the released weights (trained with 'clip') closest to home.
 *
 * Both are @vtok/core's groupNorm (`causal` option); this file maps the model's NormMode onto it.
 * Every broadcasting op here runs at rank <= 4: tfjs-webgpu 4.22 computes rank-5 broadcasts wrongly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GroupNorm, groupNorm, type GroupNormOpOptions } from '@vtok/core';

export type NormMode = 'clip' | 'causal';

export const NORM_GROUPS = 32;
export const NORM_EPS = 1e-6;

/** x·sigmoid(x) on a flat view (elementwise, so any rank is fine, and no rank-5 kernel is compiled). */
export function swish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1]);
    return tf.reshape(tf.mul(flat, tf.sigmoid(flat)), x.shape);
  });
}

/** a + b for two tensors of the same shape, on a flat view. */
export function addSame(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.reshape(tf.add(tf.reshape(a, [-1]), tf.reshape(b, [-1])), a.shape));
}

/** core's groupNorm options for `mode` on x: causal statistics for clips (rank 5) in 'causal' mode. */
export function normOptions(x: tf.Tensor, mode: NormMode): GroupNormOpOptions {
  return { causal: mode === 'causal' && x.rank === 5 };
}

/**
 * GroupNorm over a clip [B, T, H, W, C] with statistics of frames 0..t for frame t; no affine. Core's
 * groupNorm with `causal: true`.
 */
export function causalGroupNorm(x: tf.Tensor, numGroups: number, eps: number): tf.Tensor {
  return groupNorm(x, numGroups, undefined, undefined, eps, { causal: true });
}

/** GroupNorm without affine for an image (rank 4) or a clip (rank 5) under `mode` (core's groupNorm). */
export function normalizeGroups(x: tf.Tensor, mode: NormMode, numGroups = NORM_GROUPS, eps = NORM_EPS): tf.Tensor {
  return groupNorm(x, numGroups, undefined, undefined, eps, normOptions(x, mode));
}

/**
 * torch.nn.GroupNorm(32, C, eps=1e-6) with affine weight and bias (state-dict keys `weight`, `bias`):
 * core's GroupNorm, on channels-last images or clips; clips follow the model's NormMode.
 */
export class FrameGroupNorm extends GroupNorm {
  constructor(numChannels: number) {
    super(NORM_GROUPS, numChannels, { eps: NORM_EPS });
  }

  override forward(x: tf.Tensor, mode: NormMode | GroupNormOpOptions = 'clip'): tf.Tensor {
    return super.forward(x, typeof mode === 'string' ? normOptions(x, mode) : mode);
  }
}
