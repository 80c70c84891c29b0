/**
 * The model work the commands share: reconstruct a batch of images (tokens, reconstructions, PSNR per
 * image) and generate images of given classes, in slices so a progress bar can move and Ctrl-C can stop
 * between slices. Every tensor made here is disposed or handed to the caller.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AbortError, composePipeline, type Generator, type SampleOptions, type Tokenizer } from '@vtok/core';
import { psnr } from '@vtok/trainers';

export interface SliceOptions {
  /** Images per encode/decode or sample call (default 16). */
  batchSize?: number;
  /** Called after each slice with the images done so far. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Reconstruction {
  /** int32 [B, ...tokens.shape]. */
  tokens: tf.Tensor;
  /** float32 [B,H,W,3] in [0,1]. */
  reconstructions: tf.Tensor4D;
  /** PSNR of each reconstruction against its original, dB. */
  psnr: number[];
  encodeMs: number;
  decodeMs: number;
}

const checkAbort = (signal: AbortSignal | undefined) => {
  if (signal?.aborted) throw new AbortError();
};

/** Encodes and decodes `images` [B,H,W,3]; the caller disposes the tokens and reconstructions. */
export async function reconstructImages(tokenizer: Tokenizer, images: tf.Tensor4D, options: SliceOptions = {}): Promise<Reconstruction> {
  const { batchSize = 16, onProgress, signal } = options;
  const total = images.shape[0];
  const tokens: tf.Tensor[] = [];
  const outputs: tf.Tensor[] = [];
  const scores: number[] = [];
  let encodeMs = 0;
  let decodeMs = 0;
  try {
    for (let at = 0; at < total; at += batchSize) {
      checkAbort(signal);
      const n = Math.min(batchSize, total - at);
      const slice = tf.slice(images, [at, 0, 0, 0], [n, -1, -1, -1]);
      try {
        let t0 = performance.now();
        const ids = await tokenizer.encode(slice);
        tokens.push(ids);
        await ids.data();
        encodeMs += performance.now() - t0;
        t0 = performance.now();
        const out = (await tokenizer.decode(ids)) as tf.Tensor4D;
        outputs.push(out);
        await out.data();
        decodeMs += performance.now() - t0;
        const p = psnr(out, slice);
        scores.push(...(await p.data()));
        p.dispose();
      } finally {
        slice.dispose();
      }
      onProgress?.(at + n, total);
    }
    return {
      tokens: tf.concat(tokens, 0),
      reconstructions: tf.concat(outputs, 0) as tf.Tensor4D,
      psnr: scores,
      encodeMs,
      decodeMs,
    };
  } finally {
    tf.dispose([...tokens, ...outputs]);
  }
}

export type GenerateOptions = Omit<SampleOptions, 'classes' | 'onProgress' | 'signal'>;

/**
 * Samples one image per entry of `classes` with the generator and decodes them with the tokenizer (whose
 * token space must be the generator's: core's composePipeline says how they differ otherwise).
 * Slices after the first use seed + slice index, so a run is reproducible for a given batch size.
 */
export async function generateImages(
  tokenizer: Tokenizer,
  generator: Generator,
  classes: readonly number[],
  sampling: GenerateOptions,
  options: SliceOptions = {},
): Promise<{ images: tf.Tensor4D; sampleMs: number }> {
  const { batchSize = 16, onProgress, signal } = options;
  const pipeline = composePipeline({ tokenizer, generator });
  const parts: tf.Tensor[] = [];
  const t0 = performance.now();
  try {
    for (let at = 0, slice = 0; at < classes.length; at += batchSize, slice++) {
      checkAbort(signal);
      const chunk = classes.slice(at, at + batchSize);
      const seed = sampling.seed === undefined ? undefined : sampling.seed + slice;
      const images = await pipeline.generate({ ...sampling, seed, classes: [...chunk], signal });
      parts.push(images);
      await images.data();
      onProgress?.(at + chunk.length, classes.length);
    }
    return { images: tf.concat(parts, 0) as tf.Tensor4D, sampleMs: performance.now() - t0 };
  } finally {
    tf.dispose(parts);
  }
}

export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
