/**
 * 1d-tokenizer's BlurBlock (MaskBit): a fixed binomial low-pass filter k⊗k/Σ (k = [1,3,3,1] by default),
 * applied to each channel alone with stride 2. Its state-dict entry `kernel` is the filter as PyTorch keeps
 * it, [1, 1, n, n].
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@vtok/core';

/** The taps of each supported filter size, as the official BLUR_KERNEL_MAP. */
export const BLUR_KERNELS = { 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1] } as const;

export type BlurKernelSize = keyof typeof BLUR_KERNELS;

export class BlurBlock extends Module {
  readonly kernel: tf.Variable;
  readonly size: number;

  constructor(size: BlurKernelSize = 4) {
    super();
    const taps = BLUR_KERNELS[size];
    this.size = taps.length;
    const outer = taps.flatMap((a) => taps.map((b) => a * b));
    const sum = outer.reduce((s, v) => s + v, 0);
    this.kernel = this.addBuffer('kernel', tf.tensor4d(outer.map((v) => v / sum), [1, 1, this.size, this.size]));
  }

  /** x [B, H, W, C] → [B, ⌈H/2⌉, ⌈W/2⌉, C] for the 4-tap filter. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [, H, W, C] = x.shape;
    return tf.tidy(() => {
      // The official padding is TF "same" for a 4-tap, stride-2 filter whatever the filter's size.
      const [top, bottom] = samePad(H);
      const [left, right] = samePad(W);
      const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
      const filter = tf.tile(tf.reshape(this.kernel, [this.size, this.size, 1, 1]), [1, 1, C, 1]) as tf.Tensor4D;
      return tf.depthwiseConv2d(padded, filter, 2, 'valid');
    });
  }
}

/** `calc_same_pad(i, k=4, s=2)` split as F.pad does: the smaller half first. */
function samePad(size: number): [number, number] {
  const total = Math.max((Math.ceil(size / 2) - 1) * 2 + 4 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}
