/**
 * Gradient plumbing tfjs-core has no op for: the straight-through estimator used by VQ/LFQ/FSQ and
 * stop-gradient. Both are tf.customGrad, so the forward value is exact (x + (q − x) in float32 would
 * not give back q bit for bit).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { assertFloat, formatShape } from './validate';

// customGrad hands its function (inputs..., save); only the tensors are used here.
const straightThroughOp = tf.customGrad((...args) => {
  const q = args[1] as tf.Tensor;
  return { value: tf.clone(q), gradFunc: (dy: tf.Tensor) => [tf.clone(dy), tf.zerosLike(q)] };
});

/** The value of `q` with the gradient passed unchanged to `x` (and none to `q`). Same shapes. */
export function straightThrough(x: tf.Tensor, q: tf.Tensor): tf.Tensor {
  const op = 'straightThrough';
  assertFloat(x, op, 'x');
  assertFloat(q, op, 'q');
  if (x.rank !== q.rank || x.shape.some((d, i) => d !== q.shape[i])) {
    throw new ShapeError(`${op}: x and q must have the same shape, got ${formatShape(x.shape)} and ${formatShape(q.shape)}`);
  }
  return straightThroughOp(x, q);
}

const stopGradientOp = tf.customGrad((...args) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** The value of `x`, seen as a constant by the gradient (torch's `x.detach()`). */
export function stopGradient(x: tf.Tensor): tf.Tensor {
  assertFloat(x, 'stopGradient');
  return stopGradientOp(x);
}
