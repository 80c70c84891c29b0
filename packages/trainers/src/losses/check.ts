/**
 * Input checks shared by the losses: every tensor argument is a live float32 tensor, pairs have one shape,
 * logits hold at least one sample. They run before any tfjs op so a bad call is a typed error naming the
 * loss, the argument, what was expected and what came.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError, assertDtype, assertTensor, formatShape } from '@vtok/core';

/** A live float32 tensor. */
export function assertFloatTensor(x: unknown, who: string, what: string): asserts x is tf.Tensor {
  assertTensor(x, who, what);
  assertDtype(x, 'float32', who, what);
}

/** Two live float32 tensors of the same shape (no broadcasting: a mismatch is almost always a bug upstream). */
export function assertSamePair(x: unknown, y: unknown, who: string, names: [string, string] = ['x', 'y']): void {
  assertFloatTensor(x, who, names[0]);
  assertFloatTensor(y, who, names[1]);
  if (x.rank !== y.rank || x.shape.some((d, i) => d !== y.shape[i])) {
    throw new ShapeError(`${who}: ${names[0]} and ${names[1]} must have the same shape, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`);
  }
  if (x.size === 0) throw new ShapeError(`${who}: ${names[0]} and ${names[1]} must hold at least one value, got shape ${formatShape(x.shape)}`);
}

/** Discriminator logits: float32 [B, ...] with B >= 1 and at least one value per sample. */
export function assertLogits(x: unknown, who: string, what: string): asserts x is tf.Tensor {
  assertFloatTensor(x, who, what);
  if (x.rank < 1 || x.size === 0) {
    throw new ShapeError(`${who}: ${what} must be [B, ...] with at least one value, got shape ${formatShape(x.shape)}`);
  }
}
