/**
 * Activations tfjs-core lacks as ops. Both are composites, so their gradients come from tf.erf,
 * tf.sigmoid and tf.mul on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertFloat } from './validate';

/**
 * GELU in the exact erf form, 0.5·x·(1 + erf(x/√2)), as torch.nn.GELU() and HF BERT's 'gelu' compute
 * it; the tanh approximation would drift from checkpoints trained with the exact form.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  assertFloat(x, 'gelu');
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

/** SiLU / swish, x·sigmoid(x) (torch.nn.SiLU, Open-MAGVIT2's `swish`). */
export function silu(x: tf.Tensor): tf.Tensor {
  assertFloat(x, 'silu');
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}
