/**
 * Helpers for ops the gradient must not see. tfjs differentiates every op between the inputs and the
 * loss, and fails on ops without a gradient (Greater, TopK, SearchSorted) and on a gather whose int32
 * indices depend on the inputs (the "gradient" of the indices is int32). Ops inside a tf.customGrad
 * run untaped, so wrapping such work in one makes it a constant for the gradient.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` as one op that the gradient treats as a constant (zero gradient to every input), e.g. the
 * sign pattern, sort order or token ids computed from the latents. Any output dtype.
 */
export function noGrad<T extends tf.Tensor>(fn: (...inputs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  const op = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    return {
      value: fn(...xs),
      gradFunc: () => xs.map((x) => tf.zeros(x.shape, 'float32')),
    };
  });
  return op(...inputs) as T;
}

/** Flat positions row·m + idx[row, j] in a row-major [n, m] table: int32 [n·j] (no gradient). */
export function flatPositions(idx: tf.Tensor2D, m: number): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(tf.add(idx, tf.reshape(tf.range(0, idx.shape[0] * m, m, 'int32'), [-1, 1])), [-1]) as tf.Tensor1D);
}
