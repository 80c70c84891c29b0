/**
 * A small image tokenizer built from the public API only: non-overlapping p×p patches → Linear encoder →
 * any registered quantizer → Linear decoder → patches → image. It implements core's Tokenizer contract, so
 * it composes with generators like the packaged tokenizers do.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DTypeError,
  Linear,
  Module,
  type Quantizer,
  SeededRandom,
  ShapeError,
  type TokenSpace,
  type Tokenizer,
  depthToSpace2d,
  spaceToDepth2d,
} from '@vtok/core';
import { assertCodeIndicesAsync, assertFiniteAsync } from '@vtok/quantizers';

export interface PatchTokenizerOptions {
  imageSize: number;
  patchSize: number;
  quantizer: Quantizer;
  seed?: number;
}

export interface Reconstruction {
  images: tf.Tensor;
  /** The quantizer's losses plus `reconstruction` (mean squared error in [0,1] pixels). */
  losses: Record<string, tf.Scalar>;
}

export class PatchTokenizer extends Module implements Tokenizer {
  readonly specificationVersion = 'v1' as const;
  readonly tokens: TokenSpace;
  readonly inputShape: readonly number[];
  readonly quantizer: Quantizer;
  private readonly patchSize: number;
  private readonly encoder: Linear;
  private readonly decoder: Linear;

  constructor({ imageSize, patchSize, quantizer, seed = 0 }: PatchTokenizerOptions) {
    super();
    if (imageSize % patchSize !== 0) throw new ShapeError(`PatchTokenizer: imageSize ${imageSize} is not a multiple of patchSize ${patchSize}`);
    const grid = imageSize / patchSize;
    const patch = patchSize * patchSize * 3;
    const rng = new SeededRandom(seed);
    this.patchSize = patchSize;
    this.inputShape = [imageSize, imageSize, 3];
    this.tokens = { vocabSize: quantizer.codebookSize, shape: [grid, grid] };
    this.encoder = this.addModule('encoder', new Linear(patch, quantizer.dim, { rng: rng.fork() }));
    this.decoder = this.addModule('decoder', new Linear(quantizer.dim, patch, { rng: rng.fork() }));
    this.quantizer = quantizer;
    // A quantizer that is a Module (as the built-in ones) joins the state dict under `quantize.`.
    if (quantizer instanceof Module) this.addModule('quantize', quantizer);
  }

  private checkImages(images: tf.Tensor): void {
    if (images.dtype !== 'float32') throw new DTypeError(`PatchTokenizer: images must be float32 in [0,1], got ${images.dtype}`);
    const [h, w, c] = this.inputShape;
    if (images.rank !== 4 || images.shape[1] !== h || images.shape[2] !== w || images.shape[3] !== c) {
      throw new ShapeError(`PatchTokenizer: expected images [B,${h},${w},${c}], got [${images.shape.join(',')}]`);
    }
  }

  /** [B,H,W,3] → latents [B,g,g,dim], centred to [-1,1] first. */
  private encodeLatents(images: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.encoder.forward(spaceToDepth2d(tf.sub(tf.mul(images, 2), 1), this.patchSize)));
  }

  /** Codes [B,g,g,dim] → images [B,H,W,3] in [0,1]. */
  private decodeCodes(codes: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sigmoid(depthToSpace2d(this.decoder.forward(codes), this.patchSize)));
  }

  async encode(images: tf.Tensor): Promise<tf.Tensor> {
    this.checkImages(images);
    const latents = this.encodeLatents(images);
    try {
      // The async check works on every backend (the quantizer's own one runs only on cpu/wasm).
      await assertFiniteAsync(latents, 'PatchTokenizer.encode');
      const { quantized, indices, losses } = this.quantizer.quantize(latents);
      tf.dispose([quantized, ...Object.values(losses)]);
      return indices;
    } finally {
      latents.dispose();
    }
  }

  async decode(tokens: tf.Tensor): Promise<tf.Tensor> {
    const [g] = this.tokens.shape;
    if (tokens.rank !== 3 || tokens.shape[1] !== g || tokens.shape[2] !== g) {
      throw new ShapeError(`PatchTokenizer: expected tokens [B,${g},${g}], got [${tokens.shape.join(',')}]`);
    }
    await assertCodeIndicesAsync(tokens, this.tokens.vocabSize, 'PatchTokenizer.decode');
    return tf.tidy(() => this.decodeCodes(this.quantizer.lookup(tokens)));
  }

  /** The differentiable path used for training: images → quantised latents → images, with the losses. */
  reconstruct(images: tf.Tensor, { training = false } = {}): Reconstruction {
    this.checkImages(images);
    return tf.tidy(() => {
      const r = this.quantizer.quantize(this.encodeLatents(images), { training });
      const out = this.decodeCodes(r.quantized);
      const reconstruction = tf.mean(tf.squaredDifference(out, images)) as tf.Scalar;
      return { images: out, losses: { ...r.losses, reconstruction } };
    });
  }
}
