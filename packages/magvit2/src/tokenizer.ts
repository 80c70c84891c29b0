/**
 * vtok's Tokenizer contract over the Open-MAGVIT2 model: images [B, H, W, 3] (or clips
 * [B, T, H, W, 3]) in [0, 1] -> int32 tokens [B, h, w] (or [B, t, h, w]) -> images in [0, 1].
 * Inside, pixels are mapped to [-1, 1] as Open-MAGVIT2's data pipeline does (x·2 − 1) and the decoded
 * output is mapped back and clamped.
 *
 * Open-MAGVIT2 is fully convolutional, and so is this tokenizer: encode and decode follow the size of
 * what they are given, not the configured size. `tokens` and `inputShape` report the configured
 * (default) size, the one the released weights were trained at and the one a generator is paired on.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertDtype,
  assertFinite,
  assertIdsInRange,
  assertTensor,
  ConfigError,
  ShapeError,
  type SpecificationVersion,
  type TokenizerForward,
  type TokenSpace,
  type TrainableTokenizer,
} from '@vtok/core';
import { decodedFrames, frameStep, latentFrames, spatialFactor } from './config';
import type { NormMode } from './layers/norm';
import type { Magvit2Model } from './model';
import { checkTokenGrid, type PixelSpec, tokenGridFor } from './validate';

export class Magvit2Tokenizer implements TrainableTokenizer {
  readonly specificationVersion: SpecificationVersion = 'v1';
  /**
   * The token space at the configured size: `shape` [h, w] = imageSize / f for images, [t, h, w] for
   * clips of the configured frame count. encode/decode are not limited to it (see encode).
   */
  readonly tokens: TokenSpace;
  /** The configured input size without the batch, [H, W, 3] or [T, H, W, 3]; other sizes encode too. */
  readonly inputShape: readonly number[];
  /** GroupNorm statistics over clips ('clip' = official, 'causal' = frame t sees frames <= t). */
  readonly normalization: NormMode;
  /** The spatial down-sampling factor f = 2^(levels − 1): H and W must be multiples of it. */
  readonly factor: number;
  private readonly pixels: PixelSpec;

  constructor(readonly model: Magvit2Model) {
    const c = model.config;
    const f = spatialFactor(c);
    const [h, w] = [c.imageSize[0] / f, c.imageSize[1] / f];
    this.normalization = c.normalization;
    this.factor = f;
    this.pixels = { video: c.variant === 'video', factor: f, frameStep: frameStep(c), latentFrames: (t) => latentFrames(c, t) };
    if (c.variant === 'video') {
      const frames = c.frames as number;
      this.inputShape = [frames, c.imageSize[0], c.imageSize[1], 3];
      this.tokens = { vocabSize: c.codebookSize, shape: [latentFrames(c, frames), h, w] };
    } else {
      this.inputShape = [c.imageSize[0], c.imageSize[1], 3];
      this.tokens = { vocabSize: c.codebookSize, shape: [h, w] };
    }
  }

  get isVideo(): boolean {
    return this.model.config.variant === 'video';
  }

  /**
   * The token grid, without the batch, that pixels of shape `inputShape` (without the batch: [H, W, 3]
   * or [T, H, W, 3]) encode to: [H/f, W/f], or [t, H/f, W/f] with t = latent frames of T. Throws the
   * ShapeError encode would throw for that shape.
   */
  tokenShapeFor(inputShape: readonly number[]): number[] {
    return tokenGridFor([1, ...inputShape], this.pixels, 'Magvit2Tokenizer.tokenShapeFor');
  }

  /** The pixel shape, without the batch, that a token grid [h, w] / [t, h, w] decodes to. */
  outputShapeFor(tokenShape: readonly number[]): number[] {
    const rank = this.isVideo ? 3 : 2;
    if (tokenShape.length !== rank || tokenShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`Magvit2Tokenizer.outputShapeFor: expected a token grid ${this.isVideo ? '[t, h, w]' : '[h, w]'} of positive sizes, got [${tokenShape.join(', ')}]`);
    }
    const f = this.factor;
    const [h, w] = tokenShape.slice(-2);
    return this.isVideo ? [this.decodedFrames(tokenShape[0]), h * f, w * f, 3] : [h * f, w * f, 3];
  }

  private async checkImages(images: tf.Tensor, op: string): Promise<void> {
    this.checkImageShape(images, op);
    await assertFinite(images, op, this.isVideo ? 'clips [B, T, H, W, 3]' : 'images [B, H, W, 3]');
  }

  /** The checks that need no read-back: a float32 tensor whose size the architecture takes. */
  private checkImageShape(images: tf.Tensor, op: string): void {
    const what = this.isVideo ? 'clips [B, T, H, W, 3]' : 'images [B, H, W, 3]';
    assertTensor(images, op, what);
    assertDtype(images, 'float32', op, what);
    tokenGridFor(images.shape, this.pixels, op);
  }

  /** The continuous latent before quantisation, [B, (t,) h, w, z]. */
  async encodeLatents(images: tf.Tensor): Promise<tf.Tensor> {
    return this.latents(images, 'Magvit2Tokenizer.encodeLatents');
  }

  private async latents(images: tf.Tensor, op: string): Promise<tf.Tensor> {
    await this.checkImages(images, op);
    const x = tf.tidy(() => tf.sub(tf.mul(images, 2), 1));
    try {
      return this.model.encodeLatent(x, { normalization: this.normalization });
    } finally {
      x.dispose();
    }
  }

  /**
   * float32 in [0, 1] -> int32 tokens. Images [B, H, W, 3] of any H, W that are positive multiples of
   * `factor` give [B, H/f, W/f]; clips [B, T, H, W, 3] with 1 + k·2^n frames (n temporal
   * down-samplings: 17 -> 5 for the released video model) give [B, t, H/f, W/f]. At the configured size
   * that is [B, ...tokens.shape]. Anything else is a ShapeError that names the nearest valid sizes;
   * non-float32 pixels a DTypeError, NaN or Infinity a ValueError.
   */
  async encode(images: tf.Tensor): Promise<tf.Tensor> {
    const z = await this.latents(images, 'Magvit2Tokenizer.encode');
    try {
      const q = this.model.quantize(z);
      tf.dispose([q.quantized, ...Object.values(q.losses)]);
      return q.indices;
    } finally {
      z.dispose();
    }
  }

  /** int32 tokens [B, (t,) h, w] -> the ±1 latent codes the decoder takes, [B, (t,) h, w, z]; checked as decode checks. */
  async codes(tokens: tf.Tensor): Promise<tf.Tensor> {
    const op = 'Magvit2Tokenizer.decode';
    const what = this.isVideo ? 'tokens [B, t, h, w]' : 'tokens [B, h, w]';
    assertDtype(tokens, 'int32', op, what);
    checkTokenGrid(tokens, this.isVideo, this.isVideo && this.normalization === 'causal', op);
    await assertIdsInRange(tokens, this.tokens.vocabSize, op, 'token ids');
    return this.model.codes(tokens);
  }

  /** Quantised latent [B, (t,) h, w, z] -> images in [0, 1] (clamped). */
  decodeLatents(zq: tf.Tensor): tf.Tensor {
    const y = this.model.decodeLatent(zq, { normalization: this.normalization });
    try {
      return tf.tidy(() => tf.clipByValue(tf.mul(tf.add(y, 1), 0.5), 0, 1));
    } finally {
      y.dispose();
    }
  }

  /**
   * int32 tokens -> float32 pixels in [0, 1]. Any grid decodes: [B, h, w] -> [B, h·f, w·f, 3], and for
   * video [B, t, h, w] -> [B, 2^n·(t − 1) + 1, h·f, w·f, 3] (`decodedFrames(t)`); at the configured size
   * that is [B, ...inputShape]. A wrong rank is a ShapeError; ids outside [0, vocabSize), or a grid of a
   * single latent position (the adaptive GroupNorm's unbiased variance needs 2), a ValueError.
   */
  async decode(tokens: tf.Tensor): Promise<tf.Tensor> {
    const zq = await this.codes(tokens);
    try {
      return this.decodeLatents(zq);
    } finally {
      zq.dispose();
    }
  }

  /**
   * One differentiable pass for training (Open-MAGVIT2's VQModel.forward): pixels in [0, 1] → [-1, 1] →
   * encoder → LFQ (straight-through; with `training`, its entropy and commitment losses) → decoder → back
   * to [0, 1], unclamped. Synchronous, so a gradient tape records it; only dtype and shape are checked.
   * Returns `reconstruction` in the input's layout, `indices` [B, (t,) h, w] and the quantizer's `losses`.
   */
  forward(images: tf.Tensor, options: { training?: boolean } = {}): TokenizerForward {
    const op = 'Magvit2Tokenizer.forward';
    const absent = (['encoder', 'decoder'] as const).filter((p) => !this.model.parts.includes(p));
    if (absent.length) throw new ConfigError(`${op}: training needs the encoder and the decoder; this model was built without its ${absent.join(' and ')} (parts: ${this.model.parts.join(', ')})`);
    this.checkImageShape(images, op);
    const x = tf.tidy(() => tf.sub(tf.mul(images, 2), 1));
    let out: ReturnType<Magvit2Model['forward']>;
    try {
      out = this.model.forward(x, { normalization: this.normalization, training: options.training ?? false });
    } finally {
      x.dispose();
    }
    const { reconstruction, quantized, indices, losses } = out;
    quantized.dispose();
    const pixels = tf.tidy(() => tf.mul(tf.add(reconstruction, 1), 0.5));
    reconstruction.dispose();
    return { reconstruction: pixels, indices, losses };
  }

  /** Frames the decoder produces for `t` latent frames (video; 1 for images). */
  decodedFrames(t: number): number {
    return this.isVideo ? decodedFrames(this.model.config, t) : 1;
  }

  dispose(): void {
    this.model.dispose();
  }
}
