// Runs on every backend project (cpu, wasm, webgpu): the backend the project asked for is the one
// that runs, a matmul + softmax match float64, async reads work, and nothing leaks.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

const expected = process.env.VTOK_TEST_BACKEND ?? 'cpu';

describe(`backend smoke test (${expected})`, () => {
  it('runs on the requested backend and matches a float64 reference', async () => {
    expect(tf.getBackend()).toBe(expected);
    const a = Array.from({ length: 5 * 7 }, (_, i) => Math.sin(i));
    const b = Array.from({ length: 7 * 3 }, (_, i) => Math.cos(i * 0.7));
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => tf.softmax(tf.matMul(tf.tensor2d(a, [5, 7]), tf.tensor2d(b, [7, 3]))));
    const got = await out.data();
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 5; i++) {
      const logits = [0, 1, 2].map((j) => a.slice(i * 7, i * 7 + 7).reduce((s, v, k) => s + v * b[k * 3 + j], 0));
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e.reduce((s, v) => s + v, 0);
      e.forEach((v, j) => expect(Math.abs(got[i * 3 + j] - v / z)).toBeLessThan(1e-5));
    }
  });

  it('dataSync() reads on CPU backends; on WebGPU in Node it explains to use data() instead', async () => {
    const t = tf.tidy(() => tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])));
    if (expected === 'webgpu') expect(() => t.dataSync()).toThrow(/use `await tensor.data\(\)`/);
    else expect(t.dataSync()[0]).toBe(64);
    expect((await t.data())[0]).toBe(64);
    t.dispose();
  });
});
