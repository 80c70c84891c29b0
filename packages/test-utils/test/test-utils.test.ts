import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  GOLDEN_TOLERANCE,
  centralDifferences,
  channelsFirst,
  channelsLast,
  expectAllClose,
  expectClose,
  expectError,
  expectExact,
  expectNoLeak,
  expectOnlyResult,
  goldenCase,
  goldenCaseNames,
  goldenSafetensorsFiles,
  goldenTensor,
  normals,
  prng,
  tensorOf,
} from '../src';

describe('golden reader', () => {
  it('reads every case with the names, dtypes and shapes its case.json declares', () => {
    const names = goldenCaseNames().filter((n) => n !== 'torch_ckpt_tiny');
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const name of names) {
      const c = goldenCase(name);
      expect(c.tolerance, name).toEqual(GOLDEN_TOLERANCE);
      for (const [section, tensors] of [['weights', c.weights], ['io', c.io]] as const) {
        const declared = c.json[section].tensors as Record<string, { dtype: string; shape: number[] }>;
        expect(Object.keys(tensors).sort(), `${name} ${section}`).toEqual(Object.keys(declared).sort());
        for (const [key, d] of Object.entries(declared)) {
          const t = tensors[key];
          expect(t.sourceDtype, `${name} ${key}`).toBe(d.dtype);
          expect(t.shape, `${name} ${key}`).toEqual(d.shape);
          expect(t.data.length, `${name} ${key}`).toBe(d.shape.reduce((a, b) => a * b, 1));
        }
      }
    }
    expect(goldenSafetensorsFiles()).toContain('torch_ckpt_tiny/expected.safetensors');
  });

  it('says which tensors a case has when one is missing', () => {
    expect(() => goldenTensor(goldenCase('fsq_tiny'), 'nope')).toThrow(/fsq_tiny: no tensor nope .*input\.x/);
  });
});

describe('closeness checks', () => {
  it('expectAllClose: passes within atol + rtol·|ref|, fails beyond it and on NaN', async () => {
    const tol = { atol: 1e-4, rtol: 1e-4 };
    await expectAllClose([1.00019, -2], [1, -2], tol, 'inside');
    await expect(expectAllClose([1.00021, -2], [1, -2], tol, 'outside')).rejects.toThrow(/outside: element 0/);
    await expect(expectAllClose([NaN, -2], [1, -2], tol, 'nan')).rejects.toThrow(/nan: element 0/);
    await expect(expectAllClose({ shape: [2, 1], data: [1, 2] }, { shape: [1, 2], data: [1, 2] }, tol, 'shape')).rejects.toThrow(/shape: shape/);
  });

  it('expectClose: measures the error relative to the reference scale', async () => {
    expect(await expectClose([100.001, 0], [100, 0], 2e-5, 'scaled')).toBeCloseTo(1e-5, 8);
    await expect(expectClose([0.001, 0], [0.0001, 0], 1e-3, 'small scale')).rejects.toThrow(/small scale: max abs error/);
    await expect(expectClose([NaN], [0], 1, 'nan')).rejects.toThrow(/nan/);
  });

  it('expectExact: equal to the last element; int32 where the reference is integer', async () => {
    const t = tf.tensor1d([1, 2, 3], 'int32');
    await expectExact(t, Int32Array.from([1, 2, 3]), 'same');
    await expect(expectExact(t, [1, 2, 4], 'ids')).rejects.toThrow(/ids: first difference at element 2/);
    const f = tf.tensor1d([1, -1, 1]);
    await expectExact(f, [1, -1, 1], 'codes');
    await expect(expectExact(f, Int32Array.from([1, -1, 1]), 'float ids')).rejects.toThrow(/float ids: dtype/);
    tf.dispose([t, f]);
  });
});

describe('leak checks', () => {
  it('accept a call that returns what it made, reject one that leaves more behind', async () => {
    const x = tf.ones([2]);
    await expectNoLeak(() => ({ a: tf.add(x, 1), b: [tf.mul(x, 2)] }), 'clean');
    let leaked: tf.Tensor | undefined;
    await expect(
      expectNoLeak(() => {
        leaked = tf.add(x, 1);
        return tf.mul(leaked, 2);
      }, 'leaky'),
    ).rejects.toThrow(/leaky: live tensors/);
    tf.dispose([x, leaked!]);
    const before = tf.memory().numTensors;
    const kept = await expectOnlyResult(() => tf.zeros([3]), 'kept');
    expect(tf.memory().numTensors).toBe(before + 1);
    kept.dispose();
  });
});

describe('expectError', () => {
  it('returns the error of the right class and message; fails on no error, another class, or a leak', async () => {
    const e = await expectError(() => Promise.reject(new RangeError('bad size 3')), RangeError, /size 3/);
    expect(e.message).toBe('bad size 3');
    await expect(expectError(() => 1, RangeError)).rejects.toThrow(/expected a RangeError/);
    await expect(expectError(() => { throw new TypeError('x'); }, RangeError)).rejects.toThrow(/expected a RangeError/);
    let leaked: tf.Tensor | undefined;
    await expect(
      expectError(() => {
        leaked = tf.zeros([1]);
        throw new RangeError('after allocating');
      }, RangeError),
    ).rejects.toThrow(/live tensors after the RangeError/);
    leaked?.dispose();
  });
});

describe('layouts and test data', () => {
  it('channelsLast / channelsFirst agree on plain arrays and tensors, and invert each other', async () => {
    const raw = { shape: [2, 3, 2, 2], data: Float32Array.from({ length: 24 }, (_, i) => i) };
    const last = channelsLast(raw);
    const t = tensorOf(raw);
    const tLast = channelsLast(t);
    expect(last.shape).toEqual([2, 2, 2, 3]);
    expect(Array.from(await tLast.data())).toEqual(Array.from(last.data));
    expect(Array.from(channelsFirst(last).data)).toEqual(Array.from(raw.data));
    tf.dispose([t, tLast]);
  });

  it('seeded data repeats per seed and differs across seeds; central differences of a quadratic are exact', () => {
    expect(normals(5, 1)).toEqual(normals(5, 1));
    expect(normals(5, 1)).not.toEqual(normals(5, 2));
    const r = prng(3);
    expect(r.int(10)).toBeLessThan(10);
    const g = centralDifferences((x) => x[0] * x[0] + 3 * x[1], Float64Array.from([2, 5]), 1e-3);
    expect(g[0]).toBeCloseTo(4, 9);
    expect(g[1]).toBeCloseTo(3, 9);
  });
});
