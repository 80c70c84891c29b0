/**
 * vtok's Tokenizer contract over the Open-MAGVIT2 model: images [B, H, W, 3] (or clips
 * [B, T, H, W, 3]) in [0, 1] -> int32 tokens [B, h, w] (or [B, t, h, w]) -> images in [0, 1].
 * Inside, pixels are mapped to [-1, 1] as Open-MAGVIT2's data pipeline does (x·2 − 1) and the decoded
 * output is mapped back and clamped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SpecificationVersion, TokenSpace, Tokenizer } from '@vtok/core';
import { decodedFrames, latentFrames, spatialFactor } from './config';
import type { NormMode } from './layers/norm';
import type { Magvit2Model } from './model';
import { checkBatchShape, checkDtype, checkFinite, checkIds } from './validate';

export class Magvit2Tokenizer implements Tokenizer {
  readonly specificationVersion: SpecificationVersion = 'v1';
  readonly tokens: TokenSpace;
  readonly inputShape: readonly number[];
  /** GroupNorm statistics over clips ('clip' = official, 'causal' = frame t sees frames <= t). */
  readonly normalization: NormMode;

  constructor(readonly model: Magvit2Model) {
    const c = model.config;
    const f = spatialFactor(c);
    const [h, w] = [c.imageSize[0] / f, c.imageSize[1] / f];
    this.normalization = c.normalization;
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

  private get inputAxes(): string[] {
    return this.isVideo ? ['frames', 'height', 'width', 'channels'] : ['height', 'width', 'channels'];
  }

  private get tokenAxes(): string[] {
    return this.isVideo ? ['latent frames', 'token rows', 'token columns'] : ['token rows', 'token columns'];
  }

  private async checkImages(images: tf.Tensor, op: string): Promise<void> {
    const what = this.isVideo ? 'clips [B, T, H, W, 3]' : 'images [B, H, W, 3]';
    checkDtype(images, 'float32', op, what);
    checkBatchShape(images, this.inputShape, op, what, this.inputAxes);
    await checkFinite(images, op, what);
  }

  /** The continuous latent before quantisation, [B, (t,) h, w, z]. */
  async encodeLatents(images: tf.Tensor): Promise<tf.Tensor> {
    await this.checkImages(images, 'Magvit2Tokenizer.encodeLatents');
    const x = tf.tidy(() => tf.sub(tf.mul(images, 2), 1));
    try {
      return this.model.encodeLatent(x, { normalization: this.normalization });
    } finally {
      x.dispose();
    }
  }

  /** float32 in [0, 1] -> int32 tokens [B, ...tokens.shape]. */
  async encode(images: tf.Tensor): Promise<tf.Tensor> {
    const z = await this.encodeLatents(images);
    try {
      const q = this.model.quantize(z);
      tf.dispose([q.quantized, ...Object.values(q.losses)]);
      return q.indices;
    } finally {
      z.dispose();
    }
  }

  /** int32 tokens -> the ±1 latent codes the decoder takes, [B, ...tokens.shape, z]. */
  async codes(tokens: tf.Tensor): Promise<tf.Tensor> {
    const op = 'Magvit2Tokenizer.decode';
    const what = this.isVideo ? 'tokens [B, t, h, w]' : 'tokens [B, h, w]';
    checkDtype(tokens, 'int32', op, what);
    checkBatchShape(tokens, this.tokens.shape, op, what, this.tokenAxes);
    await checkIds(tokens, this.tokens.vocabSize, op);
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

  /** int32 tokens [B, ...tokens.shape] -> float32 images [B, ...inputShape] in [0, 1]. */
  async decode(tokens: tf.Tensor): Promise<tf.Tensor> {
    const zq = await this.codes(tokens);
    try {
      return this.decodeLatents(zq);
    } finally {
      zq.dispose();
    }
  }

  /** Frames the decoder produces for `t` latent frames (video; 1 for images). */
  decodedFrames(t: number): number {
    return this.isVideo ? decodedFrames(this.model.config, t) : 1;
  }

  dispose(): void {
    this.model.dispose();
  }
}
