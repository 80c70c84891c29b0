// Global-norm clipping (torch.nn.utils.clip_grad_norm_) and accumulation, against float64 references.
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';
import { disposeAll, expectClose, expectError, expectExact, expectNoLeak, expectTensorDelta, normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { GradientAccumulator, clipGradNorm } from '../src/gradients';

const TOL = 1e-6;

function grads(seed: number, scale = 1): Record<string, tf.Tensor> {
  return {
    a: tf.tensor2d(Float32Array.from(normals(12, seed, scale)), [3, 4]),
    b: tf.tensor1d(Float32Array.from(normals(5, seed + 1, scale))),
    c: tf.scalar(Math.fround(-2 * scale)),
  };
}

async function flat(record: Record<string, tf.Tensor>): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const [k, t] of Object.entries(record)) out[k] = Float64Array.from(await t.data());
  return out;
}

/** torch: total = ‖(‖g_i‖_p)_i‖_p, coef = min(1, max / (total + 1e-6)). */
function reference(values: Record<string, Float64Array>, maxNorm: number, p: number) {
  const norm = (xs: number[]) => (p === Infinity ? Math.max(...xs.map(Math.abs)) : xs.reduce((s, x) => s + Math.abs(x) ** p, 0) ** (1 / p));
  const total = norm(Object.values(values).map((v) => norm([...v])));
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  return { total, clipped: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.map((x) => x * coef)])) };
}

describe('clipGradNorm', () => {
  for (const p of [2, 1, Infinity, 3]) {
    it(`p = ${p}: the total norm and the scaled gradients equal torch's, above the threshold; below it nothing changes`, async () => {
      const g = grads(7);
      const values = await flat(g);
      for (const maxNorm of [0.5, 1e6]) {
        const ref = reference(values, maxNorm, p);
        const out = clipGradNorm(g, maxNorm, { normType: p });
        await expectClose([(await out.totalNorm.data())[0]], [ref.total], TOL, `total p=${p}`);
        for (const k of Object.keys(g)) await expectClose(out.grads[k], { shape: g[k].shape, data: ref.clipped[k] }, TOL, `${k} p=${p}`);
        if (maxNorm === 1e6) for (const k of Object.keys(g)) await expectExact(out.grads[k], values[k], `${k} unchanged (×1)`);
        expect(Object.keys(out.grads)).toEqual(['a', 'b', 'c']);
        disposeAll(out);
      }
      disposeAll(g);
    });
  }

  it('by hand: (3, 4) with max norm 1 becomes (0.6, 0.8) (up to the 1e-6 of torch), total 5', async () => {
    const g = { x: tf.tensor1d([3]), y: tf.tensor1d([4]) };
    const out = clipGradNorm(g, 1);
    expect((await out.totalNorm.data())[0]).toBe(5);
    expect((await out.grads.x.data())[0]).toBeCloseTo(0.6, 6);
    expect((await out.grads.y.data())[0]).toBeCloseTo(0.8, 6);
    disposeAll([g, out]);
    const empty = clipGradNorm({}, 1);
    expect((await empty.totalNorm.data())[0]).toBe(0);
    disposeAll(empty);
  });

  it('leaves only its result; bad input gets typed errors', async () => {
    const g = grads(8);
    await expectNoLeak(() => clipGradNorm(g, 1), 'clipGradNorm');
    await expectError(() => clipGradNorm(g, -1), ValueError, /clipGradNorm: maxNorm must be a finite number >= 0, got -1/);
    await expectError(() => clipGradNorm(g, 1, { normType: 0 }), ValueError, /normType must be a number > 0 or Infinity, got 0/);
    const ints = { i: tf.zeros([2], 'int32') };
    await expectError(() => clipGradNorm(ints, 1), DTypeError, /the gradient "i" must be float32, got int32/);
    await expectError(() => clipGradNorm([g.a] as never, 1), ValueError, /must be a record name → tf.Tensor, got an array/);
    disposeAll([g, ints]);
  });
});

describe('GradientAccumulator', () => {
  it('sum and mean over three micro-batches equal the float64 sums; a key missing from one counts as zero', async () => {
    const parts = [grads(1), grads(2, 0.5), grads(3, 2)];
    delete (parts[1] as Record<string, tf.Tensor>).c;
    const acc = new GradientAccumulator();
    for (const p of parts) acc.add(p);
    expect(acc.count).toBe(3);
    const values = await Promise.all(parts.map(flat));
    const sum = (k: string) => values[0][k].map((_, i) => values.reduce((s, v) => s + (v[k]?.[i] ?? 0), 0));
    const s = acc.sum();
    const m = acc.mean();
    for (const k of ['a', 'b', 'c']) {
      await expectClose(s[k], { shape: parts[0][k].shape, data: sum(k) }, TOL, `sum ${k}`);
      await expectClose(m[k], { shape: parts[0][k].shape, data: sum(k).map((v) => v / 3) }, TOL, `mean ${k}`);
    }
    disposeAll([s, m, parts]);
    acc.reset();
    expect(acc.count).toBe(0);
    expect(Object.keys(acc.sum())).toEqual([]);
  });

  it('holds one tensor per key between adds, frees them on reset; typed errors', async () => {
    const before = tf.memory().numTensors;
    const a = grads(4);
    const b = grads(5);
    const acc = new GradientAccumulator();
    await expectTensorDelta(() => acc.add(a), 3, 'first add (a copy per key)');
    await expectTensorDelta(() => acc.add(b), 0, 'second add');
    await expectNoLeak(() => acc.mean(), 'mean');
    await expectNoLeak(() => acc.sum(), 'sum');
    const wrong = { a: tf.zeros([4, 3]) };
    await expectError(() => acc.add(wrong), ShapeError, /the gradient "a" has shape \[4, 3\], earlier micro-batches gave \[3, 4\]/);
    expect(acc.count).toBe(2);
    acc.dispose();
    await expectError(() => acc.mean(), ValueError, /no micro-batch was added/);
    disposeAll([a, b, wrong]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
