import type * as tf from '@tensorflow/tfjs-core';
import { Module, type SeededRandom } from '@vtok/core';
import { type ConvLike, makeConv, type Variant } from './conv';
import { addSame, FrameGroupNorm, type NormMode, swish } from './norm';

/**
 * Open-MAGVIT2's ResBlock(cin, cout): conv2(swish(norm2(conv1(swish(norm1(x)))))) + skip, 3×3 (3×3×3)
 * convs without bias; the skip is x, or a 1×1 (1×1×1) conv `nin_shortcut` without bias on the block's
 * input when the width changes. No dropout, no attention.
 */
export class ResBlock extends Module {
  readonly norm1: FrameGroupNorm;
  readonly norm2: FrameGroupNorm;
  readonly conv1: ConvLike;
  readonly conv2: ConvLike;
  readonly nin_shortcut?: ConvLike;

  constructor(variant: Variant, inChannels: number, outChannels: number, rng?: SeededRandom) {
    super();
    this.norm1 = this.addModule('norm1', new FrameGroupNorm(inChannels));
    this.norm2 = this.addModule('norm2', new FrameGroupNorm(outChannels));
    this.conv1 = this.addModule('conv1', makeConv(variant, inChannels, outChannels, { kernel: 3, bias: false, rng }));
    this.conv2 = this.addModule('conv2', makeConv(variant, outChannels, outChannels, { kernel: 3, bias: false, rng }));
    if (inChannels !== outChannels) {
      this.nin_shortcut = this.addModule('nin_shortcut', makeConv(variant, inChannels, outChannels, { kernel: 1, bias: false, rng }));
    }
  }

  /** Intermediates are freed as soon as they are used, so a level's peak memory stays near two activations. */
  forward(x: tf.Tensor, mode: NormMode): tf.Tensor {
    const h1 = consume(consume(this.norm1.forward(x, mode), swish), (a) => this.conv1.forward(a));
    const h2 = consume(consume(consume(h1, (a) => this.norm2.forward(a, mode)), swish), (a) => this.conv2.forward(a));
    const skip = this.nin_shortcut ? this.nin_shortcut.forward(x) : x;
    const out = addSame(h2, skip);
    h2.dispose();
    if (skip !== x) skip.dispose();
    return out;
  }
}

/** f(x), then frees x (an intermediate that nothing else holds). */
function consume(x: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  try {
    return f(x);
  } finally {
    x.dispose();
  }
}
