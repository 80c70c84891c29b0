/** Checks at the tokenizer's public boundary: each bad input becomes a typed error that says what was expected. */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';

const fmt = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

/** `x` must be [B, ...shape] with B >= 1; `what` names the layout, e.g. '[B, H, W, 3]'. */
export function checkBatchShape(x: tf.Tensor, shape: readonly number[], op: string, what: string, axisNames: readonly string[]): void {
  if (x.rank !== shape.length + 1) {
    throw new ShapeError(`${op}: expected ${what} = ${fmt(['B', ...shape])}, got rank ${x.rank} with shape ${fmt(x.shape)}`);
  }
  if (x.shape[0] < 1) throw new ShapeError(`${op}: the batch is empty (shape ${fmt(x.shape)})`);
  for (let i = 0; i < shape.length; i++) {
    if (x.shape[i + 1] !== shape[i]) {
      throw new ShapeError(
        `${op}: expected ${axisNames[i]} ${shape[i]} in ${what} = ${fmt(['B', ...shape])}, got ${x.shape[i + 1]} (shape ${fmt(x.shape)})`,
      );
    }
  }
}

export function checkDtype(x: tf.Tensor, dtype: 'float32' | 'int32', op: string, what: string): void {
  if (x.dtype !== dtype) throw new DTypeError(`${op}: ${what} must be ${dtype}, got ${x.dtype} (shape ${fmt(x.shape)})`);
}

/** Every value finite; one read-back. */
export async function checkFinite(x: tf.Tensor, op: string, what: string): Promise<void> {
  const ok = tf.tidy(() => tf.all(tf.isFinite(tf.reshape(x, [-1]))));
  const [value] = await ok.data();
  ok.dispose();
  if (!value) throw new ValueError(`${op}: ${what} contains NaN or Infinity`);
}

/** Every id in [0, vocab); one read-back of min and max. */
export async function checkIds(ids: tf.Tensor, vocab: number, op: string): Promise<void> {
  const range = tf.tidy(() => {
    const flat = tf.reshape(ids, [-1]);
    return tf.stack([tf.min(flat), tf.max(flat)]);
  });
  const [lo, hi] = await range.data();
  range.dispose();
  if (lo < 0 || hi >= vocab) {
    throw new ValueError(`${op}: token ids must be in [0, ${vocab}), got values from ${lo} to ${hi}`);
  }
}
