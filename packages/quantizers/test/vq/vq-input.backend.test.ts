// Bad input to the VectorQuantizer: each a typed error saying what was expected and what came, no tensor
// left behind. Value checks (NaN/Inf, id range) run synchronously on cpu and wasm; their async forms run
// on every backend.
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';
import { disposeAll, expectError } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { VectorQuantizer, assertCodeIndicesAsync, assertFiniteAsync, valueChecksRunSync } from '../../src';

const syncChecks = ['cpu', 'wasm'].includes(process.env.VTOK_TEST_BACKEND ?? 'cpu');

describe('VectorQuantizer input checks', () => {
  const vq = new VectorQuantizer({ dim: 4, codebookSize: 10, seed: 1 });

  it('value checks run synchronously exactly on the CPU-resident backends', () => {
    expect(valueChecksRunSync()).toBe(syncChecks);
    expect(valueChecksRunSync(false)).toBe(false);
    expect(valueChecksRunSync(true)).toBe(true);
  });

  it('wrong last dimension, scalar or empty latents: ShapeError', async () => {
    const z = tf.zeros([2, 3, 5]);
    await expectError(() => vq.quantize(z), ShapeError, /expected latents \[\.\.\., 4\] .*got last dimension 5 in shape \[2, 3, 5\]/);
    const s = tf.scalar(1);
    await expectError(() => vq.quantize(s), ShapeError, /got a scalar/);
    const e = tf.zeros([0, 4]);
    await expectError(() => vq.quantize(e), ShapeError, /no vector.*\[0, 4\]/);
    tf.dispose([z, s, e]);
  });

  it('integer latents: DTypeError', async () => {
    const z = tf.zeros([2, 4], 'int32');
    await expectError(() => vq.quantize(z), DTypeError, /latents must be float32, got int32 \(shape \[2, 4\]\)/);
    z.dispose();
  });

  it('NaN or Inf in the latents: ValueError (synchronously on cpu/wasm, through assertFiniteAsync everywhere)', async () => {
    const z = tf.tensor2d([[0, 1, 2, 3], [NaN, 0, Infinity, 1]]);
    if (syncChecks) {
      await expectError(() => vq.quantize(z), ValueError, /latents must be finite, got 2 NaN or infinite values in shape \[2, 4\]/);
      // checkValues: false skips the read-back (the caller vouches for the values).
      const unchecked = new VectorQuantizer({ dim: 4, codebookSize: 10, checkValues: false });
      disposeAll(unchecked.quantize(z));
      unchecked.dispose();
    }
    const before = tf.memory().numTensors;
    await expect(assertFiniteAsync(z, 'encode')).rejects.toThrow(ValueError);
    await expect(assertFiniteAsync(z, 'encode')).rejects.toThrow(/encode: latents must be finite, got 2 NaN or infinite values/);
    expect(tf.memory().numTensors).toBe(before);
    const ok = tf.ones([3, 4]);
    await expect(assertFiniteAsync(ok, 'encode')).resolves.toBeUndefined();
    tf.dispose([z, ok]);
  });

  it('lookup: non-int32 ids are a DTypeError; ids out of [0, K) a ValueError', async () => {
    const f = tf.tensor1d([1, 2]);
    await expectError(() => vq.lookup(f), DTypeError, /code indices must be int32, got float32 \(shape \[2\]\)/);
    const high = tf.tensor2d([[0, 3], [10, 2]], [2, 2], 'int32');
    const low = tf.tensor1d([-1, 0], 'int32');
    if (syncChecks) {
      await expectError(() => vq.lookup(high), ValueError, /code indices must be in \[0, 9\] \(codebook size 10\), got values from 0 to 10 in shape \[2, 2\]/);
      await expectError(() => vq.lookup(low), ValueError, /got values from -1 to 0/);
    }
    await expect(assertCodeIndicesAsync(high, 10, 'decode')).rejects.toThrow(/decode: code indices must be in \[0, 9\]/);
    await expect(assertCodeIndicesAsync(low, 10, 'decode')).rejects.toThrow(ValueError);
    await expect(assertCodeIndicesAsync(f, 10, 'decode')).rejects.toThrow(DTypeError);
    const fine = tf.tensor1d([0, 9], 'int32');
    await expect(assertCodeIndicesAsync(fine, 10, 'decode')).resolves.toBeUndefined();
    const codes = vq.lookup(fine);
    expect(codes.shape).toEqual([2, 4]);
    tf.dispose([f, high, low, fine, codes]);
  });

  it('lookupSoft: wrong last dimension or dtype', async () => {
    const p = tf.ones([2, 9]);
    await expectError(() => vq.lookupSoft(p), ShapeError, /expected probabilities \[\.\.\., 10\] .*got shape \[2, 9\]/);
    const i = tf.ones([2, 10], 'int32');
    await expectError(() => vq.lookupSoft(i), DTypeError, /probabilities must be float32, got int32/);
    tf.dispose([p, i]);
  });
});
