/**
 * Open-MAGVIT2's AdaptiveGroupNorm: GroupNorm(32, C, affine = False) of x, then x·γ + β with
 * γ = gamma(sqrt(var(zq) + 1e-6)) and β = beta(mean(zq)), where mean and var are taken per latent
 * channel over every latent position of the decoder input zq, var with torch's default unbiased
 * estimator (divide by n − 1; the upstream comment says otherwise, the code does this). γ is used as
 * it is, not as 1 + γ.
 *
 * In 'causal' mode over a clip, decoder frame j is normalised with statistics of frames 0..j and
 * styled with the latent statistics of the latent frames it can see (0..horizon[j]), so no output
 * frame depends on a later latent frame.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cumulativeMoments, Linear, Module, type SeededRandom } from '@vtok/core';
import { NORM_EPS, normalizeGroups, type NormMode } from './norm';

/** Per-sample, per-channel latent statistics that AdaptiveGroupNorm turns into γ and β. */
export interface StyleStats {
  /** sqrt(unbiased var + eps), [B, z] ('clip' or image) or [B, t, z] ('causal', cumulative over latent frames). */
  readonly std: tf.Tensor;
  /** mean, same shape as std. */
  readonly mean: tf.Tensor;
}

/** The style statistics of the whole latent zq ([B, h, w, z] or [B, t, h, w, z]): [B, z]. */
export function styleStatsWhole(zq: tf.Tensor): StyleStats {
  return tf.tidy(() => {
    const z = zq.shape[zq.rank - 1];
    const b = zq.shape[0];
    const flat = tf.reshape(zq, [b, -1, z]);
    const n = flat.shape[1] as number;
    const mean = tf.mean(flat, 1, true);
    const variance = tf.div(tf.sum(tf.square(tf.sub(flat, mean)), 1), n - 1);
    return { mean: tf.reshape(mean, [b, z]), std: tf.sqrt(tf.add(variance, NORM_EPS)) };
  });
}

/** Cumulative style statistics over latent frames 0..τ of zq [B, t, h, w, z]: [B, t, z]. */
export function styleStatsCausal(zq: tf.Tensor): StyleStats {
  return tf.tidy(() => {
    const [b, t, h, w, z] = zq.shape;
    const n = h * w;
    const frames = tf.reshape(zq, [b, t, n, z]);
    const m = tf.mean(frames, 2, true);
    const v = tf.mean(tf.square(tf.sub(frames, m)), 2);
    const { mean, variance } = cumulativeMoments(tf.reshape(m, [b, t, z]), v);
    // Biased variance over (τ+1)·n positions -> unbiased: × N / (N − 1).
    const unbias = tf.tensor(Float32Array.from({ length: t }, (_, i) => ((i + 1) * n) / ((i + 1) * n - 1)), [1, t, 1]);
    return { mean, std: tf.sqrt(tf.add(tf.mul(variance, unbias), NORM_EPS)) };
  });
}

export class AdaptiveGroupNorm extends Module {
  readonly gamma: Linear;
  readonly beta: Linear;

  constructor(
    readonly zChannels: number,
    readonly numChannels: number,
    rng?: SeededRandom,
  ) {
    super();
    this.gamma = this.addModule('gamma', new Linear(zChannels, numChannels, { rng }));
    this.beta = this.addModule('beta', new Linear(zChannels, numChannels, { rng }));
  }

  /** γ and β: [B, C], or [B, T, C] for per-frame (causal) statistics. */
  modulation(style: StyleStats): { scale: tf.Tensor; bias: tf.Tensor } {
    return { scale: this.gamma.forward(style.std), bias: this.beta.forward(style.mean) };
  }

  /**
   * x: [B, H, W, C] or [B, T, H, W, C]. `horizon` (causal clips only) gives, for each of x's frames,
   * the last latent frame it may see; style then holds cumulative statistics [B, t, z].
   */
  forward(x: tf.Tensor, style: StyleStats, mode: NormMode, horizon?: readonly number[]): tf.Tensor {
    return tf.tidy(() => {
      const b = x.shape[0];
      const c = this.numChannels;
      const normalized = normalizeGroups(x, mode);
      const perFrame = style.std.rank === 3;
      if (!perFrame) {
        const { scale, bias } = this.modulation(style);
        const rows = tf.reshape(normalized, [b, -1, c]);
        return tf.reshape(tf.add(tf.mul(rows, tf.reshape(scale, [b, 1, c])), tf.reshape(bias, [b, 1, c])), x.shape);
      }
      if (!horizon || horizon.length !== x.shape[1]) throw new Error('AdaptiveGroupNorm: per-frame style needs one horizon entry per frame');
      const index = tf.tensor1d(Array.from(horizon), 'int32');
      const t = x.shape[1] as number;
      const zc = this.zChannels;
      // γ, β per frame as a broadcast product summed over z rather than a matMul: each row's arithmetic
      // then does not depend on how many frames there are (tfjs-webgpu tiles matMul by the row count),
      // so latent frame 0 decodes bit-identically alone and inside a clip.
      const rowwise = (layer: Linear, v: tf.Tensor) =>
        tf.add(tf.sum(tf.mul(tf.reshape(v, [-1, zc, 1]), tf.reshape(tf.transpose(layer.weight), [1, zc, c])), 1), layer.bias as tf.Tensor);
      const scale = rowwise(this.gamma, tf.gather(style.std, index, 1));
      const bias = rowwise(this.beta, tf.gather(style.mean, index, 1));
      const rows = tf.reshape(normalized, [b, t, -1, c]);
      return tf.reshape(tf.add(tf.mul(rows, tf.reshape(scale, [b, t, 1, c])), tf.reshape(bias, [b, t, 1, c])), x.shape);
    });
  }
}
