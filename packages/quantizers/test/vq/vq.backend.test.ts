// VectorQuantizer against a float64 reference on every backend: assignments (ties included), values,
// losses, gradients (straight-through and the two losses vs central differences), lookup, leaks.
import * as tf from '@tensorflow/tfjs-core';
import { centralDifferences, disposeAll, expectClose, expectNoLeak, prng } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { VectorQuantizer } from '../../src';
import { flatten, nearest, normalize, referenceVQ, rowsOf } from './reference';

const FORWARD_TOL = 2e-5; // relative to the reference scale (max |ref|); float32 rounding only
const GRAD_TOL = 1e-4; // float32 gradients vs float64 central differences

/** A quantizer holding `weight` [K*d] (row-major), with value checks as configured. */
function quantizerWith(weight: Float64Array, k: number, d: number, extra: Partial<ConstructorParameters<typeof VectorQuantizer>[0]> = {}) {
  const vq = new VectorQuantizer({ dim: d, codebookSize: k, seed: 3, ...extra });
  const w = tf.tensor(Float32Array.from(weight), [k, d]);
  vq.loadStateDict({ 'embedding.weight': w });
  w.dispose();
  return vq;
}

/** Random latents and codebook whose nearest-code decisions have a clear margin in float32. */
function separatedProblem(seed: number, n: number, k: number, d: number, useL2Norm: boolean) {
  const rr = prng(seed);
  for (let attempt = 0; attempt < 50; attempt++) {
    const z = rr.normals(n * d);
    const w = rr.normals(k * d, 0.8);
    const zl = rowsOf(z, d).map((v) => (useL2Norm ? normalize(v) : v));
    const codes = rowsOf(w, d).map((v) => (useL2Norm ? normalize(v) : v));
    if (nearest(zl, codes).minGap > 1e-3) return { z, w };
  }
  throw new Error('could not draw a problem with a margin');
}

describe.each([false, true])('VectorQuantizer (useL2Norm: %s) vs the float64 reference', (useL2Norm) => {
  it.each([
    { shape: [7, 5], k: 9 },
    { shape: [2, 3, 4, 6], k: 40 }, // K >= 32: tfjs-webgpu's parallel ArgMin path
    { shape: [3, 1, 11, 12], k: 300 },
  ])('forward on $shape with K=$k: indices, codes, losses', async ({ shape, k }) => {
    const d = shape[shape.length - 1];
    const n = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const { z, w } = separatedProblem(k + n, n, k, d, useL2Norm);
    const vq = quantizerWith(w, k, d, { useL2Norm, commitmentCost: 0.3 });
    const ref = referenceVQ(rowsOf(z, d), rowsOf(w, d), useL2Norm, 0.3);
    const zt = tf.tensor(Float32Array.from(z), shape);
    const r = vq.quantize(zt);
    expect(r.indices.shape).toEqual(shape.slice(0, -1));
    expect(Array.from(await r.indices.data())).toEqual(ref.indices);
    await expectClose(r.quantized, flatten(ref.quantized), FORWARD_TOL, 'quantized');
    await expectClose(r.losses.commitment, [ref.commitment], FORWARD_TOL, 'commitment');
    await expectClose(r.losses.codebook, [ref.codebook], FORWARD_TOL, 'codebook');
    await expectClose(r.losses.total, [ref.total], FORWARD_TOL, 'total');
    // lookup(indices) gives the same codes (as get_codebook_entry).
    const looked = vq.lookup(r.indices);
    expect(looked.shape).toEqual(shape);
    await expectClose(looked, flatten(ref.quantized), FORWARD_TOL, 'lookup');
    tf.dispose([looked, zt]);
    disposeAll(r);
    vq.dispose();
  });

  it('ties resolve to the first index, as torch.argmin', async () => {
    // 64 codes (parallel ArgMin on webgpu) made of 8 distinct vectors repeated: every latent ties 8 ways.
    const d = 4, k = 64, distinct = 8;
    const rr = prng(7);
    const base = rr.normals(distinct * d);
    const w = new Float64Array(k * d);
    for (let i = 0; i < k; i++) w.set(base.subarray(((i * 5) % distinct) * d, ((i * 5) % distinct + 1) * d), i * d);
    const z = rr.normals(50 * d);
    const vq = quantizerWith(w, k, d, { useL2Norm });
    const zt = tf.tensor(Float32Array.from(z), [50, d]);
    const r = vq.quantize(zt);
    const ref = referenceVQ(rowsOf(z, d), rowsOf(w, d), useL2Norm, 0.25);
    // The reference picks the first of equal rows; each distinct vector's first copy is among 0..7.
    expect(Math.max(...ref.indices)).toBeLessThan(distinct);
    expect(Array.from(await r.indices.data())).toEqual(ref.indices);
    disposeAll(r);
    zt.dispose();
    vq.dispose();
  });

  it('the codebook is initialised uniform(-1/K, 1/K) and seeded', async () => {
    const a = new VectorQuantizer({ dim: 6, codebookSize: 50, useL2Norm, seed: 11 });
    const b = new VectorQuantizer({ dim: 6, codebookSize: 50, useL2Norm, seed: 11 });
    const c = new VectorQuantizer({ dim: 6, codebookSize: 50, useL2Norm, seed: 12 });
    const [wa, wb, wc] = await Promise.all([a, b, c].map((q) => q.embedding.weight.data()));
    expect(Array.from(wa)).toEqual(Array.from(wb));
    expect(Array.from(wa)).not.toEqual(Array.from(wc));
    expect(Math.max(...Array.from(wa).map(Math.abs))).toBeLessThanOrEqual(1 / 50);
    expect(Math.max(...Array.from(wa).map(Math.abs))).toBeGreaterThan(0.8 / 50);
    [a, b, c].forEach((q) => q.dispose());
  });
});

describe.each([false, true])('gradients (useL2Norm: %s)', (useL2Norm) => {
  const n = 6, k = 5, d = 4, beta = 0.4;

  it('straight-through: the upstream gradient reaches z unchanged (through the l2-normalisation when on)', async () => {
    const { z, w } = separatedProblem(21, n, k, d, useL2Norm);
    const cot = prng(22).normals(n * d);
    const vq = quantizerWith(w, k, d, { useL2Norm, commitmentCost: beta });
    const zt = tf.tensor(Float32Array.from(z), [n, d]);
    const ct = tf.tensor(Float32Array.from(cot), [n, d]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(vq.quantize(x).quantized, ct)))(zt);
    if (!useL2Norm) {
      expect(Array.from(await g.data())).toEqual(Array.from(Float32Array.from(cot)));
    } else {
      // Official: z_q = ẑ + sg(z_q − ẑ) with ẑ = normalize(z), so dL/dz = J_normalize(z)ᵀ·dL/dz_q.
      const f = (x: Float64Array) => {
        let s = 0;
        rowsOf(x, d).map(normalize).forEach((v, i) => v.forEach((e, j) => (s += e * cot[i * d + j])));
        return s;
      };
      await expectClose(g, centralDifferences(f, Float64Array.from(z)), GRAD_TOL, 'straight-through through normalize');
    }
    tf.dispose([g, zt, ct]);
    vq.dispose();
  });

  it('commitment and codebook losses: gradients wrt z and the codebook match central differences', async () => {
    const { z, w } = separatedProblem(31, n, k, d, useL2Norm);
    const vq = quantizerWith(w, k, d, { useL2Norm, commitmentCost: beta });
    const { indices } = referenceVQ(rowsOf(z, d), rowsOf(w, d), useL2Norm, beta);
    // With the assignment fixed (argmin has no gradient), as float64 functions of z and of the codebook:
    const mse = (zv: Float64Array, wv: Float64Array) => {
      const zl = rowsOf(zv, d).map((v) => (useL2Norm ? normalize(v) : v));
      const codes = rowsOf(wv, d).map((v) => (useL2Norm ? normalize(v) : v));
      let s = 0;
      zl.forEach((v, i) => v.forEach((e, j) => (s += (e - codes[indices[i]][j]) ** 2)));
      return s / (n * d);
    };
    const z64 = Float64Array.from(z), w64 = Float64Array.from(w);
    const dMseDz = centralDifferences((x) => mse(x, w64), z64);
    const dMseDw = centralDifferences((x) => mse(z64, x), w64);
    const zeros = (len: number) => new Float64Array(len);
    const scaled = (g: Float64Array, s: number) => g.map((v) => v * s);
    const expected = {
      commitment: { z: scaled(dMseDz, beta), w: zeros(k * d) }, // β·mean((sg(z_q) − z)²): only z
      codebook: { z: zeros(n * d), w: dMseDw }, // mean((z_q − sg(z))²): only the codebook
      total: { z: scaled(dMseDz, beta), w: dMseDw },
    };
    const zt = tf.tensor(Float32Array.from(z), [n, d]);
    for (const name of ['commitment', 'codebook', 'total'] as const) {
      const gz = tf.grad((x: tf.Tensor) => vq.quantize(x).losses[name])(zt);
      await expectClose(gz, expected[name].z, GRAD_TOL, `d ${name} / dz`);
      const { value, grads } = tf.variableGrads(() => vq.quantize(zt).losses[name], [vq.embedding.weight]);
      await expectClose(grads[vq.embedding.weight.name], expected[name].w, GRAD_TOL, `d ${name} / d codebook`);
      tf.dispose([gz, value, ...Object.values(grads)]);
    }
    zt.dispose();
    vq.dispose();
  });

  it('gradients leave no tensor behind', async () => {
    const { z, w } = separatedProblem(41, n, k, d, useL2Norm);
    const vq = quantizerWith(w, k, d, { useL2Norm });
    const zt = tf.tensor(Float32Array.from(z), [n, d]);
    await expectNoLeak(() => tf.grad((x: tf.Tensor) => vq.quantize(x, { training: true }).losses.total)(zt), 'grad wrt z');
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => vq.quantize(zt).losses.total);
      return [value, ...Object.values(grads)];
    }, 'grad wrt codebook');
    zt.dispose();
    vq.dispose();
  });
});

describe('lookup', () => {
  it('looks up ids of any shape; lookupSoft mixes codes by probabilities (get_codebook_entry, 2-D float input)', async () => {
    const k = 6, d = 3;
    const w = prng(51).normals(k * d);
    for (const useL2Norm of [false, true]) {
      const vq = quantizerWith(w, k, d, { useL2Norm });
      const rows = rowsOf(w, d).map((v) => (useL2Norm ? normalize(v) : v));
      const ids = [[5, 0, 2], [1, 1, 4]];
      const idt = tf.tensor2d(ids, [2, 3], 'int32');
      const codes = vq.lookup(idt);
      expect(codes.shape).toEqual([2, 3, d]);
      await expectClose(codes, flatten(ids.flat().map((i) => rows[i])), FORWARD_TOL, 'lookup');
      const p = prng(52).normals(2 * k).map(Math.abs);
      const pt = tf.tensor(Float32Array.from(p), [2, k]);
      const soft = vq.lookupSoft(pt);
      const raw = rowsOf(w, d);
      const mixed = [0, 1].map((b) => {
        const v = new Float64Array(d);
        for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) v[j] += p[b * k + c] * raw[c][j];
        return useL2Norm ? normalize(v) : v;
      });
      await expectClose(soft, flatten(mixed), FORWARD_TOL, 'lookupSoft');
      await expectNoLeak(() => [vq.lookup(idt), vq.lookupSoft(pt), vq.codebook()], 'lookup');
      tf.dispose([idt, codes, pt, soft]);
      vq.dispose();
    }
  });
});

describe('memory', () => {
  it('quantize (inference and training with EMA and dead-code restart) leaves only its outputs', async () => {
    const vq = new VectorQuantizer({ dim: 4, codebookSize: 16, ema: true, deadCodeRestart: { afterCalls: 1 }, seed: 5 });
    const z = tf.randomNormal([2, 5, 4]);
    for (const training of [false, true]) await expectNoLeak(() => vq.quantize(z, { training }), `quantize training=${training}`);
    await expectNoLeak(() => vq.usageStatistics(), 'usageStatistics');
    await expectNoLeak(() => vq.resetUsageStatistics(), 'resetUsageStatistics');
    z.dispose();
    const before = tf.memory().numTensors;
    new VectorQuantizer({ dim: 4, codebookSize: 16, ema: true, deadCodeRestart: true }).dispose();
    vq.dispose();
    expect(tf.memory().numTensors).toBe(before - 4); // vq's codebook, cluster sizes, idle counters and usage counts
  });
});
