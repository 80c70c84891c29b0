/**
 * TiTok's input checks, built from @vtok/core's public-boundary checks (each throws a typed error that
 * says what was expected and what came, before any model work starts). What is TiTok's own: square
 * images of the configured size, the official [B, 1, L] token layout next to [B, L], latents [B, L, C].
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertBatchShape, assertDtype, assertFinite, assertImages, assertTensor, assertTokens } from '@vtok/core';

export { formatShape, inBatches } from '@vtok/core';

/** Images [B, size, size, 3], float32, finite, in [0, 1]. */
export async function checkImages(images: unknown, size: number, op: string): Promise<void> {
  await assertImages(images, op, { size: [size, size] });
}

/**
 * Token ids: int32 [B, L] (or [B, 1, L], as the official encode returns them) with 0 <= id < vocab.
 * Returns a [B, L] tensor: `tokens` itself, or a reshaped copy the caller disposes.
 */
export async function checkTokens(tokens: unknown, length: number, vocab: number, op: string): Promise<tf.Tensor> {
  await assertTokens(tokens, { vocabSize: vocab, shape: [length] }, op, { alternatives: [[1, length]], allowEmpty: true });
  const t = tokens as tf.Tensor;
  return t.rank === 3 ? tf.reshape(t, [t.shape[0], length]) : t;
}

/** Latents [B, L, channels], float32 and finite. */
export async function checkLatents(latents: unknown, length: number, channels: number, op: string): Promise<void> {
  assertTensor(latents, op, 'latents');
  assertDtype(latents, 'float32', op, 'latents');
  assertBatchShape(latents, [length, channels], op, 'latents', { allowEmpty: true });
  await assertFinite(latents, op, 'latents');
}
