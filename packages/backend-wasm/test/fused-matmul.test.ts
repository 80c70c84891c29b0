// tfjs-wasm's _FusedMatMul with a bias and a transposed operand: the wrapper must give the cpu result
// for every transpose combination, batched, with activations, and leak nothing.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { wasm } from '../src/index';

function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

type Run = { a: number[]; aShape: number[]; b: number[]; bShape: number[]; bias: number[]; biasShape: number[] | null };

function fused(r: Run, transposeA: boolean, transposeB: boolean, activation: 'linear' | 'relu' | 'elu' | 'sigmoid') {
  return tf.tidy(() =>
    tf.fused.matMul({
      a: tf.tensor(r.a, r.aShape),
      b: tf.tensor(r.b, r.bShape),
      transposeA,
      transposeB,
      bias: r.biasShape ? tf.tensor(r.bias, r.biasShape) : undefined,
      activation,
    }),
  );
}

describe('wasm _FusedMatMul with bias and transposed operands', () => {
  beforeAll(async () => {
    await wasm().activate();
  });

  it('gives the cpu result for the hand-checked case', async () => {
    const out = tf.tidy(() =>
      tf.fused.matMul({
        a: tf.tensor2d([[1, 2, 3], [4, 5, 6]]),
        b: tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]),
        transposeB: true,
        bias: tf.tensor1d([10, 20, 30, 40]),
      }),
    );
    expect(Array.from(await out.data())).toEqual([11, 22, 33, 46, 14, 25, 36, 55]);
    out.dispose();
  });

  for (const [batch, m, k, n] of [[1, 2, 3, 4], [3, 5, 7, 6]]) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        for (const activation of ['linear', 'relu', 'elu', 'sigmoid'] as const) {
          // tfjs-wasm accepts only a rank-1 bias (it says so in a clear error).
          for (const biasShape of [[n], null]) {
            it(`[${batch},${m},${k}]x[${k},${n}] transposeA=${transposeA} transposeB=${transposeB} ${activation} ${biasShape ? `bias [${biasShape}]` : 'no bias'}`, async () => {
              const aShape = transposeA ? [batch, k, m] : [batch, m, k];
              const bShape = transposeB ? [batch, n, k] : [batch, k, n];
              const run: Run = {
                a: values(batch * m * k, 1),
                aShape,
                b: values(batch * k * n, 2),
                bShape,
                bias: values(biasShape ? biasShape.reduce((x, y) => x * y, 1) : 0, 3),
                biasShape,
              };
              const before = tf.memory().numTensors;
              const got = fused(run, transposeA, transposeB, activation);
              const gotValues = Array.from(await got.data());
              got.dispose();
              expect(tf.memory().numTensors).toBe(before);
              await tf.setBackend('cpu');
              const want = fused(run, transposeA, transposeB, activation);
              const wantValues = Array.from(await want.data());
              want.dispose();
              await tf.setBackend('wasm');
              expect(gotValues.length).toBe(wantValues.length);
              gotValues.forEach((v, i) => expect(Math.abs(v - wantValues[i])).toBeLessThan(1e-5));
            });
          }
        }
      }
    }
  }
});
