/**
 * The official initialisations, so a generator built here trains from the same starting distribution:
 * HF BERT's `_init_weights` (ImageBert) and UViTBert's `_init_weights` both draw Linear and Embedding
 * weights from N(0, 0.02²) with zero biases and unit LayerNorms. UViT's `trunc_normal_` cuts at ±2 in
 * absolute value, i.e. at 100σ, so it is the same distribution. Values are drawn on the CPU from a
 * SeededRandom, so a seed gives the same model on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, type Module, type SeededRandom } from '@vtok/core';

export const INITIALIZER_RANGE = 0.02;

function assign(variable: tf.Variable, value: tf.Tensor): void {
  variable.assign(value);
  value.dispose();
}

export function initNormal(variable: tf.Variable, rng: SeededRandom, std = INITIALIZER_RANGE): void {
  assign(variable, rng.normal([...variable.shape], 0, std));
}

/** Re-initialises every Linear, Embedding and LayerNorm below `root` as the official code does. */
export function initLikeOfficial(root: Module, rng: SeededRandom): void {
  for (const [, m] of root.namedModules()) {
    if (m instanceof Linear) {
      initNormal(m.weight, rng);
      if (m.bias) assign(m.bias, tf.zeros(m.bias.shape));
    } else if (m instanceof Embedding) {
      initNormal(m.weight, rng);
    } else if (m instanceof LayerNorm) {
      if (m.weight) assign(m.weight, tf.ones(m.weight.shape));
      if (m.bias) assign(m.bias, tf.zeros(m.bias.shape));
    }
  }
}
