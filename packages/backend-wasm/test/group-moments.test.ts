// The wasm GROUP_MOMENTS kernel behind core's groupNorm: float64-accurate statistics per (row, group),
// each row independent of the others, core's gradient through it, and no tensor left behind.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { GROUP_MOMENTS, SeededRandom, groupMoments, groupNorm } from '@vtok/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupMomentsInto } from '../src/group-moments';
import { wasm } from '../src/index';

/** Float64 statistics straight from the definition. */
function reference(x: ArrayLike<number>, rows: number, s: number, c: number, g: number): { mean: number[]; variance: number[] } {
  const per = c / g;
  const mean: number[] = [];
  const variance: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < g; k++) {
      let sum = 0;
      for (let p = 0; p < s; p++) for (let j = 0; j < per; j++) sum += x[(r * s + p) * c + k * per + j]!;
      const m = sum / (s * per);
      let sq = 0;
      for (let p = 0; p < s; p++) for (let j = 0; j < per; j++) sq += (x[(r * s + p) * c + k * per + j]! - m) ** 2;
      mean.push(m);
      variance.push(sq / (s * per));
    }
  return { mean, variance };
}

/** Values with a large common mean per row, so a cancelling variance formula would show. */
function values(n: number, seed: number, offset: number): Float32Array {
  return Float32Array.from(new SeededRandom(seed).normalArray(n), (v, i) => Math.fround(0.5 * v + offset + (i % 7) * 0.01));
}

const maxRelative = (got: ArrayLike<number>, want: number[], scale: number[]) =>
  Math.max(...want.map((w, i) => Math.abs(got[i]! - w) / Math.max(scale[i]!, 1e-30)));

describe('GROUP_MOMENTS on wasm', () => {
  beforeAll(async () => {
    await wasm().activate();
  });

  it('is registered by wasm() and used by groupNorm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel(GROUP_MOMENTS, 'wasm')).toBeDefined();
  });

  it('groupMomentsInto: float64-accurate means and variances, even far from zero', () => {
    const [rows, s, c, g] = [2, 300, 12, 3];
    const x = values(rows * s * c, 1, 1000);
    const mean = new Float32Array(rows * g);
    const variance = new Float32Array(rows * g);
    groupMomentsInto(x, rows, s, c, g, mean, variance);
    const want = reference(x, rows, s, c, g);
    // The float32 rounding of the results is all that is lost.
    expect(maxRelative(mean, want.mean, want.mean.map(Math.abs))).toBeLessThan(1e-7);
    expect(maxRelative(variance, want.variance, want.variance)).toBeLessThan(1e-6);
  });

  it('the kernel gives the reference statistics; a row alone gives the same bits as inside a batch', async () => {
    const [rows, s, c, g] = [3, 257, 64, 16];
    const data = values(rows * s * c, 2, 30);
    const x = tf.tensor3d(data, [rows, s, c]);
    const before = tf.memory().numTensors;
    const [mean, variance] = groupMoments(x, g);
    expect(tf.memory().numTensors).toBe(before + 2);
    const want = reference(data, rows, s, c, g);
    expect(maxRelative(await mean!.data(), want.mean, want.mean.map(Math.abs))).toBeLessThan(1e-7);
    expect(maxRelative(await variance!.data(), want.variance, want.variance)).toBeLessThan(1e-6);
    const row = tf.slice(x, [1, 0, 0], [1, s, c]);
    const [m1, v1] = groupMoments(row, g);
    expect(Array.from(await m1!.data())).toEqual(Array.from((await mean!.data()).slice(g, 2 * g)));
    expect(Array.from(await v1!.data())).toEqual(Array.from((await variance!.data()).slice(g, 2 * g)));
    tf.dispose([x, mean!, variance!, row, m1!, v1!]);
  });

  it("groupNorm through the kernel: values and gradients as on the cpu backend's composite", async () => {
    const shape = [2, 3, 5, 8];
    const data = values(2 * 3 * 5 * 8, 3, 4);
    const rng = new SeededRandom(4);
    const gamma = rng.normalArray(8);
    const beta = rng.normalArray(8);
    const cot = rng.normalArray(2 * 3 * 5 * 8);
    const run = async () => {
      const [x, g, b, dy] = [tf.tensor(data, shape), tf.tensor(gamma), tf.tensor(beta), tf.tensor(cot, shape)];
      const y = groupNorm(x, 4, g, b, 1e-6);
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(groupNorm(xi, 4, gi, bi, 1e-6), dy)))([x, g, b]);
      const out = { y: Array.from(await y.data()), grads: await Promise.all(grads.map(async (t) => Array.from(await t.data()))) };
      tf.dispose([x, g, b, dy, y, ...grads]);
      return out;
    };
    const before = tf.memory().numTensors;
    const onWasm = await run();
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    const onCpu = await run();
    await tf.setBackend('wasm');
    const close = (a: number[], b: number[], tol: number) => expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThan(tol);
    close(onWasm.y, onCpu.y, 2e-5);
    onWasm.grads.forEach((g, i) => close(g, onCpu.grads[i]!, 2e-4));
  });
});
