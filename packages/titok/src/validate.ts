/**
 * Input checks for TiTok's public methods: each says what was expected and what came, with a typed
 * error, before any model work starts. Value checks read back a few scalars (one round trip).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';

export const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function assertTensor(x: unknown, op: string, name: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new ValueError(`${op}: ${name} must be a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) throw new ValueError(`${op}: ${name} is disposed`);
}

/** [count of non-finite values, min, max] of a float tensor, read back together. */
async function rangeOf(x: tf.Tensor): Promise<{ nonFinite: number; min: number; max: number }> {
  const stats = tf.tidy(() => {
    const finite = tf.isFinite(x);
    const nonFinite = tf.sum(tf.cast(tf.logicalNot(finite), 'float32'));
    // Min and max over the finite values only, so a NaN does not hide an out-of-range value.
    const safe = tf.where(finite, x, tf.zerosLike(x));
    return tf.stack([nonFinite, tf.min(safe), tf.max(safe)]);
  });
  const [nonFinite, min, max] = await stats.data();
  stats.dispose();
  return { nonFinite, min, max };
}

/** Images [B, size, size, 3], float32, finite, in [0, 1]. */
export async function checkImages(images: unknown, size: number, op: string): Promise<void> {
  assertTensor(images, op, 'images');
  if (images.dtype !== 'float32') {
    throw new DTypeError(`${op}: images must be float32 in [0, 1], got ${images.dtype} ${formatShape(images.shape)} (divide uint8 pixels by 255)`);
  }
  if (images.rank !== 4) throw new ShapeError(`${op}: expected images of rank 4 [B, ${size}, ${size}, 3], got rank ${images.rank} ${formatShape(images.shape)}`);
  const [, h, w, c] = images.shape;
  if (c !== 3) throw new ShapeError(`${op}: expected 3 channels (RGB, channels last) in [B, ${size}, ${size}, 3], got ${c} in ${formatShape(images.shape)}`);
  if (h !== size || w !== size) {
    throw new ShapeError(`${op}: expected ${size}×${size} images [B, ${size}, ${size}, 3], got ${h}×${w} in ${formatShape(images.shape)} (resize and crop first)`);
  }
  if (images.size === 0) return;
  const { nonFinite, min, max } = await rangeOf(images);
  if (nonFinite > 0) throw new ValueError(`${op}: images contain ${nonFinite} NaN or infinite value(s)`);
  if (min < 0 || max > 1) throw new ValueError(`${op}: image values must be in [0, 1], got values in [${min}, ${max}] (divide uint8 pixels by 255)`);
}

/**
 * Token ids: int32 [B, L] (or [B, 1, L], as the official encode returns them) with 0 <= id < vocab.
 * Returns a [B, L] tensor: `tokens` itself, or a reshaped copy the caller disposes.
 */
export async function checkTokens(tokens: unknown, length: number, vocab: number, op: string): Promise<tf.Tensor> {
  assertTensor(tokens, op, 'tokens');
  if (tokens.dtype !== 'int32') throw new DTypeError(`${op}: tokens must be int32 ids, got ${tokens.dtype} ${formatShape(tokens.shape)}`);
  const squeezable = tokens.rank === 3 && tokens.shape[1] === 1;
  if (!(tokens.rank === 2 || squeezable) || tokens.shape[tokens.rank - 1] !== length) {
    throw new ShapeError(`${op}: expected tokens [B, ${length}] (or [B, 1, ${length}]), got ${formatShape(tokens.shape)}`);
  }
  if (tokens.size > 0) {
    const stats = tf.tidy(() => tf.stack([tf.min(tokens), tf.max(tokens)]));
    const [min, max] = await stats.data();
    stats.dispose();
    if (min < 0 || max >= vocab) throw new ValueError(`${op}: token ids must be in [0, ${vocab - 1}] (codebook size ${vocab}), got ids in [${min}, ${max}]`);
  }
  return squeezable ? tf.reshape(tokens, [tokens.shape[0], length]) : tokens;
}

/** Latents [B, L, channels], float32 and finite. */
export async function checkLatents(latents: unknown, length: number, channels: number, op: string): Promise<void> {
  assertTensor(latents, op, 'latents');
  if (latents.dtype !== 'float32') throw new DTypeError(`${op}: latents must be float32, got ${latents.dtype} ${formatShape(latents.shape)}`);
  if (latents.rank !== 3 || latents.shape[1] !== length || latents.shape[2] !== channels) {
    throw new ShapeError(`${op}: expected latents [B, ${length}, ${channels}], got ${formatShape(latents.shape)}`);
  }
  if (latents.size === 0) return;
  const { nonFinite } = await rangeOf(latents);
  if (nonFinite > 0) throw new ValueError(`${op}: latents contain ${nonFinite} NaN or infinite value(s)`);
}

/**
 * Runs `run` on chunks of at most `size` along the batch axis and concatenates the results, so memory
 * grows with the chunk, not with the batch. Each chunk's intermediates are freed before the next starts.
 */
export async function inBatches(x: tf.Tensor, size: number, run: (chunk: tf.Tensor) => tf.Tensor): Promise<tf.Tensor> {
  const batch = x.shape[0];
  if (batch <= size) return run(x);
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < batch; start += size) {
      const chunk = tf.slice(x, start, Math.min(size, batch - start));
      try {
        parts.push(run(chunk));
      } finally {
        chunk.dispose();
      }
      // Let other work (progress UIs, GPU queues) run between chunks.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}
