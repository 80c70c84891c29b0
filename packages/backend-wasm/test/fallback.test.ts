// The kernels tfjs-wasm lacks, filled with cpu kernels: each gives the cpu backend's result on wasm,
// dispatches through the fallback, and leaves no tensor behind on either backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  brokenWasmKernels,
  cpuFallbackCalls,
  cpuFallbackKernels,
  cpuFallbackLiveTensors,
  missingWasmKernels,
  resetCpuFallbackCalls,
  unfillableWasmKernels,
  wasm,
  wasmTrainingKernels,
} from '../src/index';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}
const rand = (shape: number[], seed: number) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);

interface Case {
  /** Kernels this case must dispatch on wasm. */
  kernels: string[];
  run: () => tf.Tensor[];
}

const cases: Record<string, Case> = {
  einsum: {
    kernels: ['Einsum'],
    run: () =>
      tf.tidy(() => {
        const a = rand([2, 3, 4], 10);
        const b = rand([2, 4, 5], 11);
        const v = rand([4], 12);
        return [tf.einsum('bij,bjk->bik', a, b), tf.einsum('bij->bji', a), tf.einsum('i,i->', v, v)];
      }),
  },
  raggedGather: {
    kernels: ['RaggedGather'],
    run: () =>
      tf.tidy(() => {
        const out = tf.raggedGather([tf.tensor1d([0, 2, 3, 6], 'int32')], rand([6], 13), tf.tensor1d([2, 0, 2], 'int32'), 1);
        return [...out.outputNestedSplits, out.outputDenseValues];
      }),
  },
  raggedRange: {
    kernels: ['RaggedRange'],
    run: () =>
      tf.tidy(() => {
        const out = tf.raggedRange(tf.tensor1d([0, 5, 8], 'int32'), tf.tensor1d([3, 5, 12], 'int32'), tf.tensor1d([1, 1, 2], 'int32'));
        return [out.rtNestedSplits, out.rtDenseValues];
      }),
  },
  raggedTensorToTensor: {
    kernels: ['RaggedTensorToTensor'],
    run: () =>
      tf.tidy(() => [
        tf.raggedTensorToTensor(tf.tensor1d([4, 4], 'int32'), rand([6], 14), tf.scalar(0.5), [tf.tensor1d([0, 2, 3, 6], 'int32')], ['ROW_SPLITS']),
      ]),
  },
  'string.staticRegexReplace': {
    kernels: ['StaticRegexReplace'],
    run: () => tf.tidy(() => [tf.string.staticRegexReplace(tf.tensor(['hello world', 'foo bar']), 'o', '0')]),
  },
};

type Result = { arrays: unknown[]; kernels: string[] };

async function runOn(backend: 'cpu' | 'wasm', c: Case): Promise<Result> {
  await tf.setBackend(backend);
  let outs: tf.Tensor[] = [];
  const profile = await tf.profile(() => {
    outs = c.run();
    return outs;
  });
  const arrays = await Promise.all(outs.map((t) => t.array()));
  tf.dispose(outs);
  return { arrays, kernels: profile.kernelNames };
}

function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${path} length`).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (typeof expected === 'number') {
    expect(Math.abs((actual as number) - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected)));
  } else {
    expect(actual, path).toEqual(expected);
  }
}

describe('@vtok/backend-wasm: kernels filled from the cpu backend', () => {
  beforeAll(async () => {
    const info = await wasm().activate();
    expect(info.tfBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fills every kernel wasm lacks except the complex64/canvas ones, replaces the broken ones, and a test covers each', () => {
    const missing = missingWasmKernels();
    const all = cpuFallbackKernels();
    const filled = all.filter((k) => !brokenWasmKernels[k]);
    expect(all.filter((k) => brokenWasmKernels[k]).sort()).toEqual(Object.keys(brokenWasmKernels).sort());
    // The ones training needs run on wasm kernels of this package, not here.
    for (const k of Object.keys(wasmTrainingKernels)) expect(all).not.toContain(k);
    expect([...filled, ...missing.filter((k) => unfillableWasmKernels[k])].sort()).toEqual(missing);
    const covered = new Set(Object.values(cases).flatMap((c) => c.kernels));
    expect(all.filter((k) => !covered.has(k)), 'cpu-backed kernels without a parity case').toEqual([]);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: same result as cpu, dispatched on wasm, nothing leaked`, async () => {
      const expected = await runOn('cpu', c);
      await tf.setBackend('wasm');
      const before = { tensors: tf.memory().numTensors, dataIds: tf.backend().numDataIds() };
      const got = await runOn('wasm', c);
      for (const k of c.kernels) expect(got.kernels, `kernels run on wasm`).toContain(k);
      expectClose(got.arrays, expected.arrays);
      expect(tf.memory().numTensors).toBe(before.tensors);
      expect(tf.backend().numDataIds()).toBe(before.dataIds);
      expect(cpuFallbackLiveTensors()).toBe(0);
    });
  }

  it('counts the calls of each cpu-backed kernel until reset', async () => {
    await tf.setBackend('wasm');
    resetCpuFallbackCalls();
    expect(cpuFallbackCalls()).toEqual({});
    const a = rand([2, 3], 30);
    for (let i = 0; i < 3; i++) tf.dispose(tf.einsum('ij->ji', a));
    tf.dispose(tf.raggedRange(tf.tensor1d([0], 'int32'), tf.tensor1d([2], 'int32'), tf.tensor1d([1], 'int32')) as never);
    const counts = cpuFallbackCalls();
    expect(counts).toEqual({ Einsum: 3, RaggedRange: 1 });
    // A copy: the caller cannot change the counts.
    counts.Einsum = 0;
    expect(cpuFallbackCalls().Einsum).toBe(3);
    resetCpuFallbackCalls();
    expect(cpuFallbackCalls()).toEqual({});
    a.dispose();
  });

  it('reports the device with SIMD and thread support', async () => {
    const info = await wasm().activate();
    expect(info.device).toMatch(/WebAssembly SIMD: (yes|no)/);
    // Node: threads on worker_threads, or one thread with the reason (see threads.test.ts).
    expect(info.device).toMatch(/; (threads: \d+ \(worker_threads\)|single thread \(.+\))/);
    expect(info.features.some((f) => f === 'single-thread' || /^threads:\d+$/.test(f))).toBe(true);
    expect(info.features).toContain(tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'simd' : 'no-simd');
    expect(await wasm().isAvailable()).toEqual({ ok: true });
  });
});
