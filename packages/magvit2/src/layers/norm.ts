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
 *   The cumulative statistics are combined from per-frame two-pass moments (Chan et al.), never from
 *   E[x²] − E[x]², so they do not lose precision to cancellation.
 *
 * Every broadcasting op here runs at rank <= 4: tfjs-webgpu 4.22 computes rank-5 broadcasts wrongly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { groupNorm, Module } from '@vtok/core';

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

/** [1, T, 1] with 1/(t+1): turns cumulative sums over frames into cumulative means. */
function inverseCounts(frames: number): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: frames }, (_, t) => 1 / (t + 1)), [1, frames, 1]);
}

/** Lower-triangular [1, T, T, 1] mask (s <= t). */
function causalMask(frames: number): tf.Tensor {
  const m = new Float32Array(frames * frames);
  for (let t = 0; t < frames; t++) for (let s = 0; s <= t; s++) m[t * frames + s] = 1;
  return tf.tensor(m, [1, frames, frames, 1]);
}

/**
 * Cumulative (frames 0..t) mean and biased variance, from per-frame means `m` and biased variances
 * `v`, both [B, T, K] over frames of equal size: μ_t = mean_{s<=t} m_s and
 * σ²_t = mean_{s<=t} (v_s + (m_s − μ_t)²). Frame 0 gives back (m_0, v_0) exactly.
 */
export function cumulativeMoments(m: tf.Tensor, v: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor } {
  return tf.tidy(() => {
    const [b, frames, k] = m.shape;
    const inv = inverseCounts(frames);
    const mean = tf.mul(tf.cumsum(m, 1), inv);
    // (m_s − μ_t)² for every pair, masked to s <= t: [B, T(t), T(s), K].
    const diff = tf.sub(tf.reshape(m, [b, 1, frames, k]), tf.reshape(mean, [b, frames, 1, k]));
    const spread = tf.sum(tf.mul(tf.square(diff), causalMask(frames)), 2);
    const variance = tf.mul(tf.add(tf.cumsum(v, 1), spread), inv);
    return { mean, variance };
  });
}

/**
 * GroupNorm over a clip [B, T, H, W, C] with statistics of frames 0..t for frame t; no affine.
 * The per-frame moments are GroupNorm's own two-pass ones over (C/G, H, W).
 */
export function causalGroupNorm(x: tf.Tensor, numGroups: number, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const [b, t, h, w, c] = x.shape;
    const frames = tf.reshape(x, [b * t, h * w, numGroups, c / numGroups]);
    const m = tf.mean(frames, [1, 3], true); // [BT, 1, G, 1]
    const centered = tf.sub(frames, m);
    const v = tf.mean(tf.square(centered), [1, 3], true);
    const { mean, variance } = cumulativeMoments(tf.reshape(m, [b, t, numGroups]), tf.reshape(v, [b, t, numGroups]));
    const shift = tf.reshape(mean, [b * t, 1, numGroups, 1]);
    const scale = tf.rsqrt(tf.add(tf.reshape(variance, [b * t, 1, numGroups, 1]), eps));
    return tf.reshape(tf.mul(tf.sub(frames, shift), scale), x.shape);
  });
}

/** GroupNorm without affine for an image (rank 4) or a clip (rank 5) under `mode`. */
export function normalizeGroups(x: tf.Tensor, mode: NormMode, numGroups = NORM_GROUPS, eps = NORM_EPS): tf.Tensor {
  if (x.rank === 5 && mode === 'causal') return causalGroupNorm(x, numGroups, eps);
  return groupNorm(x, numGroups, undefined, undefined, eps);
}

/**
 * torch.nn.GroupNorm(32, C, eps=1e-6) with affine weight and bias (state-dict keys `weight`, `bias`),
 * on channels-last images or clips; clips follow the model's NormMode.
 */
export class FrameGroupNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly numChannels: number) {
    super();
    this.weight = this.addParameter('weight', tf.ones([numChannels]));
    this.bias = this.addParameter('bias', tf.zeros([numChannels]));
  }

  forward(x: tf.Tensor, mode: NormMode): tf.Tensor {
    return tf.tidy(() => {
      const normalized = normalizeGroups(x, mode);
      // Scale and shift on a [rows, C] view (rank 2 broadcasting).
      const rows = tf.reshape(normalized, [-1, this.numChannels]);
      return tf.reshape(tf.add(tf.mul(rows, this.weight), this.bias), x.shape);
    });
  }
}
