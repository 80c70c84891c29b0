/**
 * PyTorch's default initialisations, drawn from a SeededRandom on the CPU so a seeded model is the
 * same on every backend. Without an rng each layer draws its own seed (like an unseeded torch run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '../random';

export function resolveRng(rng?: SeededRandom): SeededRandom {
  return rng ?? new SeededRandom(Math.floor(Math.random() * 2 ** 32));
}

let skipping = 0;

/**
 * Builds modules without drawing random initial weights: every initializer returns zeros instead. For a
 * model whose weights are all about to be loaded from a checkpoint, drawing them first only costs time
 * (seconds of CPU at real sizes: ~20 s for TiTok-L-32's 641M parameters). `build` must be synchronous.
 */
export function withoutRandomInit<T>(build: () => T): T {
  skipping++;
  try {
    return build();
  } finally {
    skipping--;
  }
}

/** Whether initializers are being skipped (inside `withoutRandomInit`). */
export function randomInitSkipped(): boolean {
  return skipping > 0;
}

/** U(−bound, bound) as a float32 tensor (zeros inside `withoutRandomInit`). */
export function uniformInit(rng: SeededRandom, shape: number[], bound: number): tf.Tensor {
  return skipping > 0 ? tf.zeros(shape) : rng.uniform(shape, -bound, bound);
}

/** N(mean, std²) as a float32 tensor (zeros inside `withoutRandomInit`). */
export function normalInit(rng: SeededRandom, shape: number[], mean = 0, std = 1): tf.Tensor {
  return skipping > 0 ? tf.zeros(shape) : rng.normal(shape, mean, std);
}

/**
 * Bound of torch's default Linear/Conv init: kaiming_uniform_(a=√5) gives
 * gain·√(3/fan_in) = √(1/3)·√(3/fan_in) = 1/√fan_in, and the bias uses the same bound.
 */
export function torchDefaultBound(fanIn: number): number {
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}

/** Bound of xavier_uniform_: √(6/(fan_in + fan_out)). */
export function xavierUniformBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}
