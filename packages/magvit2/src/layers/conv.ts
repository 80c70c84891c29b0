/**
 * The two convolution flavours of Open-MAGVIT2 behind one interface: nn.Conv2d in the image model
 * (keys `<name>.weight`), and ConvBlock3D in the video model, a causal Conv3d kept as attribute
 * `conv_1` (keys `<name>.conv_1.weight`). Both pad like the official code: spatially k//2 on every
 * side (also for stride 2: PyTorch's symmetric padding, not tfjs's 'same'), and in time k_t − 1 zero
 * frames before the clip and none after.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CausalConv3d, Conv2d, Module, type SeededRandom } from '@vtok/core';

export type Variant = 'image' | 'video';

export interface ConvSpec {
  kernel: 1 | 3;
  /** Image: spatial stride. Video: [time, height, width]. */
  stride?: number | [number, number, number];
  bias?: boolean;
  rng?: SeededRandom;
}

export interface ConvLike extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  forward(x: tf.Tensor): tf.Tensor;
}

/** nn.Conv2d(k, stride, padding = k // 2) on NHWC. */
class ImageConv extends Conv2d implements ConvLike {
  constructor(inChannels: number, outChannels: number, spec: ConvSpec) {
    const s = spec.stride ?? 1;
    const stride = typeof s === 'number' ? s : s[1];
    super(inChannels, outChannels, spec.kernel, { stride, padding: Math.floor(spec.kernel / 2), bias: spec.bias ?? true, rng: spec.rng });
  }
}

/** Open-MAGVIT2's ConvBlock3D(causal = True) on NDHWC: the Conv3d is its child `conv_1`. */
export class ConvBlock3D extends Module implements ConvLike {
  readonly conv_1: CausalConv3d;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    spec: ConvSpec,
  ) {
    super();
    const pad = Math.floor(spec.kernel / 2);
    this.conv_1 = this.addModule(
      'conv_1',
      new CausalConv3d(inChannels, outChannels, spec.kernel, {
        stride: spec.stride ?? 1,
        padding: [pad, pad],
        temporalPadMode: 'zeros',
        bias: spec.bias ?? true,
        rng: spec.rng,
      }),
    );
  }

  /** Core's causal conv: k_t − 1 zero frames before the clip, 2D convolutions per temporal tap. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.conv_1.forward(x);
  }
}

export function makeConv(variant: Variant, inChannels: number, outChannels: number, spec: ConvSpec): ConvLike {
  return variant === 'image' ? new ImageConv(inChannels, outChannels, spec) : new ConvBlock3D(inChannels, outChannels, spec);
}
