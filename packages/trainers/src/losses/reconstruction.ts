/**
 * Pixel reconstruction losses, as torch's F.l1_loss / F.mse_loss with reduction 'mean': the mean over every
 * element. 1d-tokenizer's `reconstruction_loss: l1 | l2` and Open-MAGVIT2's L1 term are these.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSamePair } from './check';

/** mean |x − y| over all elements; x and y float32 of one shape. The caller owns the scalar. */
export function l1Loss(x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  assertSamePair(x, y, 'l1Loss');
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(x, y))) as tf.Scalar);
}

/** mean (x − y)² over all elements; x and y float32 of one shape. The caller owns the scalar. */
export function l2Loss(x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  assertSamePair(x, y, 'l2Loss');
  return tf.tidy(() => tf.mean(tf.squaredDifference(x, y)) as tf.Scalar);
}
