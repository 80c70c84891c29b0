/**
 * Runs steps one after another, each in its own tidy, and frees every intermediate as soon as the next
 * step has used it. A whole forward pass in one tf.tidy would keep all of them alive until it returns:
 * for the MaskGIT-VQGAN decoder at 256² that is gigabytes. (Under a gradient tape tfjs keeps its own
 * copies of what the backward pass needs, so freeing early is safe there too.)
 */
import * as tf from '@tensorflow/tfjs-core';

export type Step = (x: tf.Tensor) => tf.Tensor;

/** steps[n−1](…steps[0](x)); `x` stays owned by the caller, the result by the caller too. */
export function pipe(x: tf.Tensor, ...steps: Step[]): tf.Tensor {
  let current = x;
  for (const step of steps) {
    const next = tf.tidy(() => step(current));
    if (current !== x && next !== current) current.dispose();
    current = next;
  }
  return current === x ? tf.clone(x) : current;
}

/** As pipe, but `x` is an intermediate of the caller's and is freed once the first step has used it. */
export function pipeConsuming(x: tf.Tensor, ...steps: Step[]): tf.Tensor {
  if (steps.length === 0) return x;
  const [first, ...rest] = steps;
  const next = tf.tidy(() => first(x));
  if (next !== x) x.dispose();
  return rest.length ? pipeConsuming(next, ...rest) : next;
}
