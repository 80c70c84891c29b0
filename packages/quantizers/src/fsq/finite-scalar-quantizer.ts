/**
 * Finite scalar quantisation (Mentzer et al. 2023) as lucidrains/vector-quantize-pytorch `FSQ` computes it.
 *
 * Per channel with L levels: bounded = tanh(z + shift)·halfL − offset (see FsqChannelConstants), rounded
 * half to even (PyTorch's rule, and tfjs's `round` on every backend) with a straight-through gradient,
 * then divided by floor(L/2): codes in [-1, 1] (odd L: symmetric grid; even L: one more level below 0).
 * id = Σ_i level_i·basis_i with level_i = round(bounded_i) + floor(L_i/2) ∈ [0, L_i) and
 * basis = cumulative product of the earlier levels (first channel least significant).
 * No parameters, no losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type QuantizeOptions, type QuantizeResult, type Quantizer, type SpecificationVersion, straightThrough } from '@vtok/core';
import { assertCodeIndices, assertQuantizerInput } from '../common/validate';
import { noGrad } from '../lfq/detached';
import { type FsqConfig, type ResolvedFsqConfig, resolveFsqConfig } from './config';

export class FiniteScalarQuantizer implements Quantizer {
  readonly specificationVersion: SpecificationVersion = 'v1';
  readonly type = 'fsq';
  readonly dim: number;
  readonly codebookSize: number;
  readonly levels: readonly number[];
  readonly config: ResolvedFsqConfig;

  constructor(config: FsqConfig) {
    this.config = Object.freeze(resolveFsqConfig(config));
    this.dim = this.config.dim;
    this.codebookSize = this.config.codebookSize;
    this.levels = this.config.levels;
  }

  /**
   * z [..., dim] float32 → quantized codes (same shape; gradient of the bounding function, straight
   * through the rounding) and int32 indices [...]. `losses` is always empty; `training` changes nothing.
   */
  quantize(z: tf.Tensor, _options: QuantizeOptions = {}): QuantizeResult {
    assertQuantizerInput(z, this.dim, 'FiniteScalarQuantizer.quantize', this.config.checkValues);
    return tf.tidy(() => {
      const z2 = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D;
      const bounded = tf.sub(tf.mul(tf.tanh(tf.add(z2, this.row('shift'))), this.row('halfL')), this.row('offset'));
      const rounded = noGrad((b) => tf.round(b), bounded);
      const quantized = tf.div(straightThrough(bounded, rounded), this.row('halfWidth'));
      const indices = noGrad((r) => this.idsFromRounded(r as tf.Tensor2D), rounded);
      return {
        quantized: tf.reshape(quantized, z.shape),
        indices: tf.reshape(indices, z.shape.slice(0, -1)),
        losses: {},
      };
    });
  }

  /** int32 ids (any shape) → codes [...ids.shape, dim] in [-1, 1] (official `indices_to_codes`). */
  lookup(indices: tf.Tensor): tf.Tensor {
    assertCodeIndices(indices, this.codebookSize, 'FiniteScalarQuantizer.lookup', this.config.checkValues);
    return tf.tidy(() => {
      const halfWidth = this.row('halfWidth');
      const codes = tf.div(tf.sub(this.levelIndicesOf(indices), halfWidth), halfWidth);
      return tf.reshape(codes, [...indices.shape, this.dim]);
    });
  }

  /** int32 ids (any shape) → per-channel level indices [...ids.shape, dim], int32 in [0, L_i) (official `indices_to_level_indices`). */
  levelIndices(indices: tf.Tensor): tf.Tensor {
    assertCodeIndices(indices, this.codebookSize, 'FiniteScalarQuantizer.levelIndices', this.config.checkValues);
    return tf.tidy(() => tf.reshape(tf.cast(this.levelIndicesOf(indices), 'int32'), [...indices.shape, this.dim]));
  }

  /** No tensors are held (FSQ has no parameters). */
  dispose(): void {}

  /** Level indices as float32 [M, dim]: floor(id / basis_i) mod L_i, exact below 2^24. */
  private levelIndicesOf(indices: tf.Tensor): tf.Tensor2D {
    const id = tf.reshape(tf.cast(indices, 'float32'), [-1, 1]);
    return tf.mod(tf.floor(tf.div(id, this.row('basis'))), tf.tensor2d(this.levels as number[], [1, this.dim])) as tf.Tensor2D;
  }

  private idsFromRounded(rounded: tf.Tensor2D): tf.Tensor1D {
    const level = tf.add(rounded, this.row('halfWidth'));
    const basis = tf.tensor2d(this.config.channels.map((c) => c.basis), [this.dim, 1]);
    return tf.cast(tf.reshape(tf.matMul(level, basis), [-1]), 'int32') as tf.Tensor1D;
  }

  /** One per-channel constant as a [1, dim] row (call inside a tidy). */
  private row(key: 'shift' | 'halfL' | 'offset' | 'halfWidth' | 'basis'): tf.Tensor2D {
    return tf.tensor2d(this.config.channels.map((c) => c[key]), [1, this.dim], 'float32');
  }
}
