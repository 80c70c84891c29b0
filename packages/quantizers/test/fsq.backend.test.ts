// FSQ on the active backend, beyond the golden case: rounding rule, every id round trip, gradient.
import * as tf from '@tensorflow/tfjs-core';
import { normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { FiniteScalarQuantizer } from '../src/fsq';
import { fsqBound } from './lfq-reference';

/** Gradient tolerance relative to the largest |component|: float32 tanh' against float64; measured ~1e-7. */
const GRAD_TOL = 1e-5;

describe('FiniteScalarQuantizer', () => {
  it("tf.round rounds half to even on this backend (PyTorch's rule, which FSQ's ids rely on)", async () => {
    const x = tf.tensor1d([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997]);
    const r = tf.round(x);
    expect(Array.from(await r.data()).map((v) => v + 0)).toEqual([-2, -2, 0, 0, 2, 2, 4, 0]);
    tf.dispose([x, r]);
  });

  for (const levels of [[8, 5, 5, 5], [7, 6, 3], [4, 4, 4, 4, 4]]) {
    it(`levels ${JSON.stringify(levels)}: every id <-> its levels and code; quantize then lookup gives the codes back`, async () => {
      const q = new FiniteScalarQuantizer({ levels });
      const ids = tf.range(0, q.codebookSize, 1, 'int32');
      const codesOf = q.lookup(ids);
      const codes = (await codesOf.array()) as number[][];
      const levelsOf = q.levelIndices(ids);
      const lv = (await levelsOf.array()) as number[][];
      const basis = q.config.channels.map((c) => c.basis);
      lv.forEach((row, id) => {
        expect(row.reduce((acc, l, i) => acc + l * basis[i], 0)).toBe(id);
        row.forEach((l, i) => {
          const half = Math.floor(levels[i] / 2);
          expect(l >= 0 && l < levels[i]).toBe(true);
          expect(codes[id][i]).toBeCloseTo((l - half) / half, 6);
        });
      });
      // Latents spread over the whole range hit most codes; their ids look up to the same codes.
      const z = tf.tensor2d(Float32Array.from(normals(4000 * levels.length, levels.length, 1.5)), [4000, levels.length]);
      const out = q.quantize(z);
      const looked = q.lookup(out.indices);
      const diff = tf.max(tf.abs(tf.sub(looked, out.quantized)));
      expect((await diff.data())[0]).toBeLessThan(1e-6);
      tf.dispose([ids, codesOf, levelsOf, z, out.quantized, out.indices, looked, diff]);
    });
  }

  it('gradient: straight through the rounding, through the bounding function (float64 reference)', async () => {
    const levels = [8, 5, 6, 3];
    const q = new FiniteScalarQuantizer({ levels });
    const n = 7;
    const values = normals(n * levels.length, 21, 1.5);
    const cot = normals(n * levels.length, 22);
    const z = tf.tensor2d(Float32Array.from(values), [n, levels.length]);
    const r = tf.tensor2d(Float32Array.from(cot), [n, levels.length]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(q.quantize(x, { training: true }).quantized, r)))(z);
    const got = await g.data();
    let err = 0;
    let scale = 0;
    values.forEach((v, i) => {
      const L = levels[i % levels.length];
      const ref = (cot[i] * fsqBound(v, L).derivative) / Math.floor(L / 2);
      err = Math.max(err, Math.abs(got[i] - ref));
      scale = Math.max(scale, Math.abs(ref));
    });
    expect(err / scale, `max error ${err} at scale ${scale}`).toBeLessThanOrEqual(GRAD_TOL);
    tf.dispose([z, r, g]);
  });

  it('values agree with the float64 bounding function and the rounding', async () => {
    const levels = [8, 5, 6, 3];
    const q = new FiniteScalarQuantizer({ levels });
    const values = normals(50 * levels.length, 23, 2);
    const z = tf.tensor2d(Float32Array.from(values), [50, levels.length]);
    const out = q.quantize(z);
    const codes = await out.quantized.data();
    const ids = await out.indices.data();
    for (let t = 0; t < 50; t++) {
      let id = 0;
      let basis = 1;
      levels.forEach((L, i) => {
        const b = fsqBound(values[t * levels.length + i], L).bounded;
        const rounded = Math.round(b); // no ties among random inputs
        expect(codes[t * levels.length + i]).toBeCloseTo(rounded / Math.floor(L / 2), 6);
        id += (rounded + Math.floor(L / 2)) * basis;
        basis *= L;
      });
      expect(ids[t]).toBe(id);
    }
    tf.dispose([z, out.quantized, out.indices]);
  });
});
