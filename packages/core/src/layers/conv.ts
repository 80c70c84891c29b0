import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { Module } from '../module';
import type { SeededRandom } from '../random';
import { causalConv3d, conv2dTorch, type CausalConv3dOptions, type Conv2dOptions } from '../ops/conv';
import { resolveRng, torchDefaultBound, uniformInit } from './init';

function checkPositive(values: number[], layer: string, name: string): void {
  for (const v of values) if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${layer}: ${name} must be positive integers, got ${values}`);
}

export interface Conv2dLayerOptions extends Conv2dOptions {
  bias?: boolean;
  rng?: SeededRandom;
}

/**
 * torch.nn.Conv2d (groups = 1, zero padding) on NHWC input. `weight` is stored HWIO
 * [kh, kw, in, out] (convert PyTorch's with torchConv2dWeightToHWIO); `bias` is [out].
 */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly kernelSize: [number, number];
  private readonly options: Conv2dOptions;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number],
    options: Conv2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    checkPositive([inChannels, outChannels, ...this.kernelSize], 'Conv2d', 'channels and kernel size');
    const { bias, rng: maybeRng, ...convOptions } = options;
    this.options = convOptions;
    const rng = resolveRng(maybeRng);
    const bound = torchDefaultBound(inChannels * this.kernelSize[0] * this.kernelSize[1]);
    this.weight = this.addParameter('weight', uniformInit(rng, [...this.kernelSize, inChannels, outChannels], bound));
    if (bias ?? true) this.bias = this.addParameter('bias', uniformInit(rng, [outChannels], bound));
  }

  /** [B, H, W, in] → [B, H', W', out]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = conv2dTorch(x, this.weight, this.options);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

export interface CausalConv3dLayerOptions extends CausalConv3dOptions {
  bias?: boolean;
  rng?: SeededRandom;
}

/**
 * A Conv3d that pads k_t − 1 frames before the input and none after (see causalConv3d), on NDHWC
 * input. `weight` is stored DHWIO [kt, kh, kw, in, out]; `bias` is [out]. Open-MAGVIT2 nests this
 * conv as `conv_1` inside its ConvBlock3D; that wrapper belongs to the model.
 */
export class CausalConv3d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly kernelSize: [number, number, number];
  private readonly options: CausalConv3dOptions;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number, number],
    options: CausalConv3dLayerOptions = {},
  ) {
    super();
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize, kernelSize] : kernelSize;
    checkPositive([inChannels, outChannels, ...this.kernelSize], 'CausalConv3d', 'channels and kernel size');
    const { bias, rng: maybeRng, ...convOptions } = options;
    this.options = convOptions;
    const rng = resolveRng(maybeRng);
    const [kt, kh, kw] = this.kernelSize;
    const bound = torchDefaultBound(inChannels * kt * kh * kw);
    this.weight = this.addParameter('weight', uniformInit(rng, [kt, kh, kw, inChannels, outChannels], bound));
    if (bias ?? true) this.bias = this.addParameter('bias', uniformInit(rng, [outChannels], bound));
  }

  /** [B, T, H, W, in] → [B, T', H', W', out]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = causalConv3d(x, this.weight, this.options);
      if (!this.bias) return y;
      // The bias is added on a [rows, C] view: tfjs-webgpu 4.22 mis-compiles rank-5 broadcasting adds.
      return tf.reshape(tf.add(tf.reshape(y, [-1, this.outChannels]), this.bias), y.shape);
    });
  }
}
