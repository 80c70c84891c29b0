/**
 * Token id <-> sign pattern for LFQ. Channel i of a code carries the bit of weight 2^i ('lsb') or
 * 2^(d-1-i) ('msb'). Arithmetic is in float32, exact for ids below 2^24 (LFQ_MAX_BITS): products and
 * sums of powers of two, and floor(id / 2^i) mod 2, have no rounding there, on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LfqBitOrder } from './config';

/** Weight of each channel's bit in the id: [2^0 … 2^(d-1)] for 'lsb', reversed for 'msb'. */
export function lfqBitWeights(bits: number, order: LfqBitOrder): number[] {
  const w = Array.from({ length: bits }, (_, i) => 2 ** i);
  return order === 'lsb' ? w : w.reverse();
}

/** int32 ids [N] of the sign pattern of z [N, d]: bit = (z > 0), an exact 0 counts as negative. */
export function idsFromSigns(z: tf.Tensor2D, order: LfqBitOrder): tf.Tensor1D {
  return tf.tidy(() => {
    const bits = tf.cast(tf.greater(z, 0), 'float32');
    const weights = tf.tensor2d(lfqBitWeights(z.shape[1], order), [z.shape[1], 1], 'float32');
    return tf.cast(tf.reshape(tf.matMul(bits, weights), [-1]), 'int32') as tf.Tensor1D;
  });
}

/** 0/1 float bits [N, d] of int32 ids [N], in channel order. */
export function bitsFromIds(ids: tf.Tensor1D, bits: number, order: LfqBitOrder): tf.Tensor2D {
  return tf.tidy(() => {
    const id = tf.reshape(tf.cast(ids, 'float32'), [-1, 1]);
    const weights = tf.tensor2d(lfqBitWeights(bits, order), [1, bits], 'float32');
    return tf.mod(tf.floor(tf.div(id, weights)), 2) as tf.Tensor2D;
  });
}

/** ±scale codes [N, d] of int32 ids [N]. */
export function codesFromIds(ids: tf.Tensor1D, bits: number, order: LfqBitOrder, scale: number): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.mul(bitsFromIds(ids, bits, order), 2 * scale), scale) as tf.Tensor2D);
}
