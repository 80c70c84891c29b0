/**
 * Scaled dot-product attention as matMul → softmax → matMul (tfjs-core has no fused op). Softmax
 * runs over the last axis, which is the key axis here, so no transpose is needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '../errors';
import { assertFloat, assertMinRank, formatShape } from './validate';

export interface AttentionOptions {
  /**
   * Broadcastable to [..., Nq, Nk]. A bool mask keeps the positions where it is true (as
   * torch.nn.functional.scaled_dot_product_attention; the opposite of nn.MultiheadAttention's bool
   * attn_mask). A float mask is added to the scores (0 to keep, a large negative number to drop).
   */
  mask?: tf.Tensor;
  /** Multiplies q·kᵀ; default 1/√D. */
  scale?: number;
  /**
   * Drops attention probabilities with this rate (and scales the rest by 1/(1 − rate)), as the dropout
   * on attention weights of BERT and nn.MultiheadAttention in training. Default 0; pass 0 for inference.
   */
  dropout?: number;
}

/** Dropped positions get this score: exp underflows to exactly 0, and a fully masked row stays finite. */
const MASKED_SCORE = -1e9;

/**
 * softmax(q·kᵀ·scale + mask)·v for q [..., Nq, D], k [..., Nk, D], v [..., Nk, Dv] → [..., Nq, Dv].
 * The leading (batch, head) dimensions of q, k and v must be equal: tfjs's BatchMatMul gradient does
 * not reduce broadcast batch dimensions.
 */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, options: AttentionOptions = {}): tf.Tensor {
  const op = 'scaledDotProductAttention';
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    assertFloat(t, op, name);
    assertMinRank(t, 2, op, name, '[...,N,D]');
  }
  const lead = q.shape.slice(0, -2);
  const same = (t: tf.Tensor) => t.rank === q.rank && t.shape.slice(0, -2).every((d, i) => d === lead[i]);
  if (!same(k) || !same(v)) {
    throw new ShapeError(`${op}: q, k and v must share their leading dimensions, got q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`);
  }
  const d = q.shape[q.rank - 1];
  if (k.shape[k.rank - 1] !== d) {
    throw new ShapeError(`${op}: expected k last dimension ${d} (as q), got ${formatShape(k.shape)}`);
  }
  if (v.shape[v.rank - 2] !== k.shape[k.rank - 2]) {
    throw new ShapeError(`${op}: v must have as many positions as k (${k.shape[k.rank - 2]}), got ${formatShape(v.shape)}`);
  }
  const { mask } = options;
  const scoreShape = [...lead, q.shape[q.rank - 2], k.shape[k.rank - 2]];
  if (mask) {
    if (mask.dtype !== 'bool' && mask.dtype !== 'float32') {
      throw new DTypeError(`${op}: mask must be bool or float32, got ${mask.dtype}`);
    }
    if (!broadcastsTo(mask.shape, scoreShape)) {
      throw new ShapeError(`${op}: mask shape ${formatShape(mask.shape)} does not broadcast to the scores ${formatShape(scoreShape)}`);
    }
  }
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new ValueError(`${op}: dropout must be in [0, 1), got ${dropout}`);
  return tf.tidy(() => {
    // Leading dimensions fold into one when the mask does not need them: tfjs-webgpu 4.22
    // mis-compiles broadcasting ops at rank 5, and BatchMatMul folds them anyway.
    const fold = q.rank > 3 && (!mask || mask.rank <= 2);
    const as3d = (t: tf.Tensor) => (fold ? tf.reshape(t, [-1, ...t.shape.slice(-2)]) : t);
    // Scaling q costs Nq·D multiplies instead of Nq·Nk.
    let scores = tf.matMul(tf.mul(as3d(q), scale), as3d(k), false, true);
    if (mask) scores = mask.dtype === 'bool' ? tf.where(mask, scores, tf.scalar(MASKED_SCORE)) : tf.add(scores, mask);
    let probs = tf.softmax(scores);
    if (dropout > 0) probs = tf.dropout(probs, dropout);
    const out = tf.matMul(probs, as3d(v));
    return fold ? tf.reshape(out, [...lead, ...out.shape.slice(-2)]) : out;
  });
}

function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const offset = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[offset + i]);
}
