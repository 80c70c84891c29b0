import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { Module } from '../module';
import type { SeededRandom } from '../random';
import { assertDim, assertFloat, assertMinRank } from '../ops/validate';
import { resolveRng, torchDefaultBound, uniformInit } from './init';

export interface LinearOptions {
  bias?: boolean;
  rng?: SeededRandom;
}

/**
 * torch.nn.Linear: y = x·Wᵀ + b over the last axis. The weight keeps PyTorch's [out, in] layout so
 * checkpoints load without a transpose; the matMul reads it transposed for free.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`Linear: ${name} must be a positive integer, got ${v}`);
    }
    const rng = resolveRng(options.rng);
    const bound = torchDefaultBound(inFeatures);
    this.weight = this.addParameter('weight', uniformInit(rng, [outFeatures, inFeatures], bound));
    if (options.bias ?? true) this.bias = this.addParameter('bias', uniformInit(rng, [outFeatures], bound));
  }

  /** [..., in] → [..., out]. */
  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'Linear');
    assertMinRank(x, 1, 'Linear', 'x', '[...,in]');
    assertDim(x, -1, this.inFeatures, 'Linear', 'x', 'in features');
    return tf.tidy(() => {
      // BatchMatMul's gradient does not reduce broadcast batch axes, so flatten to 2D.
      const flat = tf.reshape(x, [-1, this.inFeatures]);
      // matMul + add, not tf.fused.matMul: tfjs-wasm 4.22 adds the bias to the wrong elements
      // when transposeB is set.
      const xw = tf.matMul(flat, this.weight, false, true);
      const y = this.bias ? tf.add(xw, this.bias) : xw;
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
