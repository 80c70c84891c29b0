/**
 * Input checks shared by the ops and layers. They run before any tfjs op so a bad call fails with a
 * typed error that names the op, the argument, what was expected and what came, instead of a tfjs
 * assertion from deep inside a kernel.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { assertDtype, formatShape as fmt } from '../validate';

// The public checks (../validate.ts) that the ops use as they are.
export { assertNonNegativeInt, assertPositiveInt, formatShape } from '../validate';

/** Float inputs only: int32 ids or bool masks reaching a float op are almost always a bug upstream. */
export function assertFloat(x: tf.Tensor, op: string, name = 'x'): void {
  assertDtype(x, 'float32', op, name);
}

/** Exact rank; `layout` (e.g. '[B,H,W,C]') makes the message say what the axes mean. */
export function assertRank(x: tf.Tensor, rank: number, op: string, name = 'x', layout?: string): void {
  if (x.rank !== rank) {
    throw new ShapeError(
      `${op}: expected ${name} of rank ${rank}${layout ? ` ${layout}` : ''}, got rank ${x.rank} with shape ${fmt(x.shape)}`,
    );
  }
}

export function assertMinRank(x: tf.Tensor, minRank: number, op: string, name = 'x', layout?: string): void {
  if (x.rank < minRank) {
    throw new ShapeError(
      `${op}: expected ${name} of rank >= ${minRank}${layout ? ` ${layout}` : ''}, got rank ${x.rank} with shape ${fmt(x.shape)}`,
    );
  }
}

/** One axis (negative counts from the end) must have a given size. */
export function assertDim(x: tf.Tensor, axis: number, size: number, op: string, name = 'x', what = 'size'): void {
  const a = axis < 0 ? x.rank + axis : axis;
  if (x.shape[a] !== size) {
    const which = axis === -1 ? 'last dimension' : `dimension ${a}`;
    throw new ShapeError(`${op}: expected ${name} ${which} (${what}) ${size}, got ${x.shape[a]} in shape ${fmt(x.shape)}`);
  }
}

export function assertShape(x: tf.Tensor, shape: readonly number[], op: string, name = 'x'): void {
  if (x.rank !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: expected ${name} of shape ${fmt(shape)}, got ${fmt(x.shape)}`);
  }
}
