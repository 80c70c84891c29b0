/**
 * The perceptual-loss slot of the trainers: anything that measures two image batches and can be freed.
 * LPIPS implements it; a user's own (e.g. a ConvNeXt-logit distance as 1d-tokenizer's `convnext_s`) passes
 * the same way.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface PerceptualLoss {
  /**
   * The batch mean of a distance between images x and y (float32 [B, H, W, 3], one shape, in the range the
   * implementation documents), differentiable in both. The caller owns the scalar.
   */
  compute(x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** Frees the weights. */
  dispose(): void;
}
