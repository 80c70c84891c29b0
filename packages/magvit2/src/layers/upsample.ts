/**
 * Open-MAGVIT2's decoder up-sampler: a conv C -> C·(bt·2·2) (bias, k 3) followed by depth-to-space in
 * DCR order (tf.depthToSpace's, not pixel_shuffle's). With a temporal factor 2 the causal clip
 * t -> 2t frames is cut back to 2t − 1: frame 1 (the second copy of latent frame 0) is dropped, and a
 * 1-frame input stays 1 frame, so an image is still a 1-frame video after every level.
 */
import * as tf from '@tensorflow/tfjs-core';
import { depthToSpace2d, depthToSpace3d, Module, type SeededRandom } from '@vtok/core';
import { type ConvLike, makeConv, type Variant } from './conv';

export class Upsampler extends Module {
  readonly conv1: ConvLike;

  constructor(
    readonly variant: Variant,
    readonly channels: number,
    /** Temporal factor, 1 or 2 (video only). */
    readonly temporal: 1 | 2,
    rng?: SeededRandom,
  ) {
    super();
    this.conv1 = this.addModule('conv1', makeConv(variant, channels, channels * temporal * 4, { kernel: 3, bias: true, rng }));
  }

  /** `onConv` sees the conv output before depth-to-space (for parity checks); it must not keep it. */
  forward(x: tf.Tensor, onConv?: (t: tf.Tensor) => void): tf.Tensor {
    const y = this.conv1.forward(x);
    try {
      onConv?.(y);
      if (this.variant === 'image') return depthToSpace2d(y, 2, { order: 'tf' });
      const up = depthToSpace3d(y, this.temporal, 2, { order: 'tf' });
      if (this.temporal === 1) return up;
      try {
        return dropSecondFrame(up);
      } finally {
        up.dispose();
      }
    } finally {
      y.dispose();
    }
  }
}

/** Keeps frames [0, 2, 3, …] of [B, T, H, W, C] (only frame 0 when T = 2), via a rank-3 gather. */
export function dropSecondFrame(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [b, t, h, w, c] = x.shape;
    const keep = t > 2 ? [0, ...Array.from({ length: t - 2 }, (_, i) => i + 2)] : [0];
    const frames = tf.gather(tf.reshape(x, [b, t, h * w * c]), tf.tensor1d(keep, 'int32'), 1);
    return tf.reshape(frames, [b, keep.length, h, w, c]);
  });
}

/**
 * Which input frame each output frame of an up-sampler comes from (for causal bookkeeping):
 * identity for temporal 1; for temporal 2, output j comes from input ceil(j / 2).
 */
export function upsampledFrameSources(inputFrames: number, temporal: 1 | 2): number[] {
  if (temporal === 1) return Array.from({ length: inputFrames }, (_, i) => i);
  const out = inputFrames > 1 ? 2 * inputFrames - 1 : 1;
  return Array.from({ length: out }, (_, j) => Math.ceil(j / 2));
}
