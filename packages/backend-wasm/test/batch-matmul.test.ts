// The BatchMatMul wrapper (transposed operands materialised, equal batches as heap loops or 2D products)
// must give the cpu backend's result for every layout, leave no tensor behind, and keep gradients right.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectClose } from '@vtok/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMALL_PRODUCT, swapIsCheaper, transposeLastTwo } from '../src/batch-matmul';
import { wasm } from '../src/index';

function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ wasm: number[][]; cpu: number[][] }> {
  const read = async () => {
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    const vals = await Promise.all(list.map(async (t) => Array.from(await t.data())));
    tf.dispose(list);
    return vals;
  };
  const before = tf.memory().numTensors;
  const w = await read();
  expect(tf.memory().numTensors).toBe(before);
  await tf.setBackend('cpu');
  const c = await read();
  await tf.setBackend('wasm');
  return { wasm: w, cpu: c };
}

/** Every output of `r.wasm` within `tol` of the cpu one, relative to that output's scale. */
async function expectSameOutputs(r: { wasm: number[][]; cpu: number[][] }, tol = 1e-5): Promise<void> {
  expect(r.wasm.length).toBe(r.cpu.length);
  for (let i = 0; i < r.cpu.length; i++) await expectClose(r.wasm[i], r.cpu[i], tol, `output ${i}`);
}

describe('wasm BatchMatMul wrapper', () => {
  beforeAll(async () => {
    await wasm().activate();
  });

  it('transposes the last two axes in tiles', () => {
    const src = Float32Array.from({ length: 2 * 37 * 45 }, (_, i) => i);
    const dst = new Float32Array(src.length);
    transposeLastTwo(src, dst, 2, 37, 45);
    for (let b = 0; b < 2; b++) for (let i = 0; i < 37; i++) for (let j = 0; j < 45; j++) {
      expect(dst[b * 37 * 45 + j * 37 + i]).toBe(src[b * 37 * 45 + i * 45 + j]);
    }
  });

  const layouts: { name: string; a: number[]; b: number[] }[] = [
    { name: '2D', a: [5, 7], b: [7, 3] },
    { name: 'equal batch, rank 3', a: [4, 5, 7], b: [4, 7, 3] },
    { name: 'equal batch, rank 4', a: [2, 3, 5, 7], b: [2, 3, 7, 3] },
    { name: 'batched times 2D (linear layer)', a: [4, 5, 7], b: [7, 3] },
    { name: 'broadcast batch 1 against 3', a: [1, 5, 7], b: [3, 7, 3] },
    { name: 'tile-crossing sizes', a: [3, 40, 33], b: [3, 33, 70] },
    // Equal batches: small entries take the heap loops, large ones one 2D product per entry.
    { name: 'attention-like heads (loops)', a: [8, 17, 9], b: [8, 9, 17] },
    { name: 'equal batch, entries above SMALL_PRODUCT (2D products)', a: [2, 70, 65], b: [2, 65, 70] },
    // transposeB: few rows against a wide weight, computed as (W·xᵀ)ᵀ (swapIsCheaper(6, 40, 50)).
    { name: 'few rows times a wide weight', a: [2, 3, 40], b: [40, 50] },
    { name: 'few rows times a wide rank-3 weight', a: [1, 6, 40], b: [1, 40, 50] },
    { name: 'batch 1 rank 4 times a weight', a: [1, 1, 6, 40], b: [40, 50] },
  ];

  it('the layouts below put equal batches on both sides of SMALL_PRODUCT', () => {
    expect(17 * 9 * 17).toBeLessThanOrEqual(SMALL_PRODUCT);
    expect(70 * 65 * 70).toBeGreaterThan(SMALL_PRODUCT);
  });

  it('swaps x·Wᵀ only when that moves fewer elements', () => {
    expect(swapIsCheaper(6, 40, 50)).toBe(true); // the wide-weight layouts above
    expect(swapIsCheaper(20, 7, 3)).toBe(false); // 'batched times 2D'
    expect(swapIsCheaper(257, 768, 2304)).toBe(true); // TiTok's qkv projection, batch 1
    expect(swapIsCheaper(8 * 257, 768, 2304)).toBe(false); // batch 8
  });
  for (const { name, a, b } of layouts) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        it(`${name}: transposeA=${transposeA} transposeB=${transposeB}`, async () => {
          const swap = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
          const aShape = transposeA ? swap(a) : a;
          const bShape = transposeB ? swap(b) : b;
          const av = values(size(aShape), 1);
          const bv = values(size(bShape), 2);
          const r = await onBoth(() => tf.tidy(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), transposeA, transposeB)));
          await expectSameOutputs(r);
        });
      }
    }
  }

  it('gradients of a batched, transposed product match the cpu backend', async () => {
    const av = values(3 * 6 * 4, 3);
    const bv = values(3 * 5 * 4, 4);
    const r = await onBoth(() =>
      tf.tidy(() => {
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true))));
        return g([tf.tensor(av, [3, 6, 4]), tf.tensor(bv, [3, 5, 4])]);
      }),
    );
    await expectSameOutputs(r, 1e-4);
  });
});
