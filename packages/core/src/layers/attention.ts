import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';
import { Module } from '../module';
import type { SeededRandom } from '../random';
import { scaledDotProductAttention } from '../ops/attention';
import { assertDim, assertFloat, assertRank, formatShape } from '../ops/validate';
import { resolveRng, uniformInit, xavierUniformBound } from './init';
import { Linear } from './linear';

export interface MultiheadAttentionOptions {
  bias?: boolean;
  rng?: SeededRandom;
}

export interface MultiheadAttentionForwardOptions {
  /**
   * Broadcastable to [B, heads, Nq, Nk]: bool keeps where true (F.scaled_dot_product_attention's
   * convention, the opposite of nn.MultiheadAttention's bool attn_mask); float is added to scores.
   */
  mask?: tf.Tensor;
}

/**
 * torch.nn.MultiheadAttention (batch_first, kdim = vdim = embedDim, no dropout) with its parameter
 * layout, so weights load from PyTorch as they are: `in_proj_weight` [3E, E] (rows q, then k, then v),
 * `in_proj_bias` [3E], `out_proj.weight` [E, E], `out_proj.bias` [E]. Heads are contiguous chunks of
 * E/heads channels, scores scaled by 1/√(E/heads).
 */
export class MultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias?: tf.Variable;
  readonly outProj: Linear;
  readonly headDim: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || !Number.isInteger(numHeads) || numHeads < 1 || embedDim < 1 || embedDim % numHeads !== 0) {
      throw new ConfigError(`MultiheadAttention: embedDim (${embedDim}) must be a positive multiple of numHeads (${numHeads})`);
    }
    this.headDim = embedDim / numHeads;
    const rng = resolveRng(options.rng);
    const bias = options.bias ?? true;
    // As MultiheadAttention._reset_parameters: xavier_uniform_ on the packed [3E, E] matrix, zero biases.
    this.inProjWeight = this.addParameter('in_proj_weight', uniformInit(rng, [3 * embedDim, embedDim], xavierUniformBound(embedDim, 3 * embedDim)));
    if (bias) this.inProjBias = this.addParameter('in_proj_bias', tf.zeros([3 * embedDim]));
    this.outProj = this.addModule('out_proj', new Linear(embedDim, embedDim, { bias, rng }));
    if (this.outProj.bias) tf.tidy(() => this.outProj.bias!.assign(tf.zerosLike(this.outProj.bias!)));
  }

  /**
   * query [B, Nq, E], key [B, Nk, E] (default: query), value [B, Nk, E] (default: key) → [B, Nq, E].
   * Self-attention runs one packed [3E, E] projection.
   */
  forward(query: tf.Tensor, key: tf.Tensor = query, value: tf.Tensor = key, options: MultiheadAttentionForwardOptions = {}): tf.Tensor {
    const op = 'MultiheadAttention';
    const e = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      assertFloat(t, op, name);
      assertRank(t, 3, op, name, '[B,N,E]');
      assertDim(t, -1, e, op, name, 'embedDim');
    }
    if (key.shape[0] !== query.shape[0] || value.shape[0] !== query.shape[0] || value.shape[1] !== key.shape[1]) {
      throw new ShapeError(
        `${op}: batch sizes must agree and value must have as many positions as key; got query ${formatShape(query.shape)}, key ${formatShape(key.shape)}, value ${formatShape(value.shape)}`,
      );
    }
    return tf.tidy(() => {
      let q: tf.Tensor;
      let k: tf.Tensor;
      let v: tf.Tensor;
      if (key === query && value === query) {
        [q, k, v] = tf.split(this.project(query, this.inProjWeight, this.inProjBias), 3, -1);
      } else {
        const ws = tf.split(this.inProjWeight, 3, 0);
        const bs = this.inProjBias ? tf.split(this.inProjBias, 3, 0) : [undefined, undefined, undefined];
        q = this.project(query, ws[0], bs[0]);
        k = this.project(key, ws[1], bs[1]);
        v = this.project(value, ws[2], bs[2]);
      }
      const out = scaledDotProductAttention(this.splitHeads(q), this.splitHeads(k), this.splitHeads(v), { mask: options.mask });
      return this.outProj.forward(this.mergeHeads(out));
    });
  }

  /** x [B, N, E] · Wᵀ + b, flattened to 2D for the matMul. */
  private project(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
    const [batch, n] = x.shape;
    // Not tf.fused.matMul: see Linear (tfjs-wasm misplaces the bias with transposeB).
    const xw = tf.matMul(tf.reshape(x, [-1, this.embedDim]), w, false, true);
    const y = b ? tf.add(xw, b) : xw;
    return tf.reshape(y, [batch, n, w.shape[0]]);
  }

  /** [B, N, E] → [B, heads, N, E/heads]. */
  private splitHeads(x: tf.Tensor): tf.Tensor {
    const [batch, n] = x.shape;
    return tf.transpose(tf.reshape(x, [batch, n, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  /** [B, heads, N, E/heads] → [B, N, E]. */
  private mergeHeads(x: tf.Tensor): tf.Tensor {
    const [batch, , n] = x.shape;
    return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch, n, this.embedDim]);
  }
}
