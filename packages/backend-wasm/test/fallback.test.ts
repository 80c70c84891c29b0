// The kernels tfjs-wasm lacks, filled with cpu kernels: each gives the cpu backend's result on wasm,
// dispatches through the fallback, and leaves no tensor behind on either backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { brokenWasmKernels, cpuFallbackKernels, cpuFallbackLiveTensors, missingWasmKernels, unfillableWasmKernels, wasm } from '../src/index';

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
  // The gradient kernels are run directly: tfjs-core's Node bundle registers no gradient functions
  // (the @tensorflow/tfjs union package does), and the kernel is what is under test.
  'unsortedSegmentSum (the gather/embedding gradient), float and int': {
    kernels: ['UnsortedSegmentSum'],
    run: () =>
      tf.tidy(() => {
        const x = rand([6, 3], 1);
        const ids = tf.tensor1d([0, 2, 0, 1, 2, 2], 'int32');
        const xi = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
        return [tf.unsortedSegmentSum(x, ids, 4), tf.unsortedSegmentSum(xi, tf.tensor1d([1, 1, 0], 'int32'), 3)];
      }),
  },
  'Conv2DBackpropFilter (conv2d gradient with respect to the filter)': {
    kernels: ['Conv2DBackpropFilter'],
    run: () =>
      tf.tidy(() => {
        const x = rand([2, 7, 7, 3], 4);
        const attrs = (strides: number, pad: string) => ({ strides, pad, dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] });
        return [
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: rand([2, 4, 4, 4], 5) }, attrs(2, 'same')) as tf.Tensor,
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: rand([2, 5, 5, 4], 6) }, attrs(1, 'valid')) as tf.Tensor,
        ];
      }),
  },
  'DepthwiseConv2dNative backprop (gradients with respect to input and filter)': {
    kernels: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
    run: () =>
      tf.tidy(() => {
        const x = rand([1, 6, 6, 2], 7);
        const filter = rand([3, 3, 2, 2], 8);
        const dy = rand([1, 6, 6, 4], 9);
        const common = { strides: [1, 1], pad: 'same', dilations: [1, 1] };
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape: [3, 3, 2, 2] }) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: [1, 6, 6, 2] }) as tf.Tensor,
        ];
      }),
  },
  'Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 (replaced: wrong on tfjs-wasm 4.22)': {
    kernels: ['Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'],
    run: () =>
      tf.tidy(() => {
        const x = rand([1, 5, 6, 6, 2], 15);
        const filter = rand([3, 3, 3, 2, 4], 16);
        const dy = rand([1, 2, 2, 2, 4], 17);
        const attrs = { strides: [2, 2, 2], pad: 'valid' };
        return [
          tf.engine().runKernel('Conv3DBackpropInputV2', { dy, filter }, { ...attrs, inputShape: [1, 5, 6, 6, 2] }) as tf.Tensor,
          tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { ...attrs, filterShape: [3, 3, 3, 2, 4] }) as tf.Tensor,
        ];
      }),
  },
  'MaxPoolGrad (replaced: wrong on tfjs-wasm 4.22)': {
    kernels: ['MaxPoolGrad'],
    run: () =>
      tf.tidy(() => {
        const input = rand([2, 6, 6, 3], 18) as tf.Tensor4D;
        const output = tf.maxPool(input, 3, 2, 'same');
        return [tf.engine().runKernel('MaxPoolGrad', { dy: rand(output.shape, 19), input, output }, { filterSize: 3, strides: 2, pad: 'same' }) as tf.Tensor];
      }),
  },
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
    // The ones training needs are there on tfjs 4.22.
    for (const k of ['UnsortedSegmentSum', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      expect(filled).toContain(k);
    }
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

  // Linear maps and their gradients meet <dy, f(x)> = <f'(dy), x>: a check that needs no reference
  // backend. tfjs-wasm 4.22's own Conv3DBackprop*V2 and MaxPoolGrad fail it; the replacements pass.
  it('gradient kernels on wasm meet the adjoint identity', async () => {
    await tf.setBackend('wasm');
    const dot = async (a: tf.Tensor, b: tf.Tensor) => {
      const d = tf.sum(tf.mul(a, b));
      const v = (await d.data())[0];
      d.dispose();
      return v;
    };
    const checks: [string, number, number][] = [];
    const run = tf.engine();
    for (const [s, pad, ci, co] of [[1, 'same', 3, 4], [2, 'valid', 2, 5]] as const) {
      const x = rand([1, 5, 6, 6, ci], 20) as tf.Tensor5D;
      const f = rand([3, 3, 3, ci, co], 21) as tf.Tensor5D;
      const y = tf.conv3d(x, f, s, pad);
      const dy = rand(y.shape, 22);
      const dx = run.runKernel('Conv3DBackpropInputV2', { dy, filter: f }, { strides: [s, s, s], pad, inputShape: x.shape }) as tf.Tensor;
      const df = run.runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides: [s, s, s], pad, filterShape: f.shape }) as tf.Tensor;
      const lhs = await dot(dy, y);
      checks.push([`conv3d s${s} ${pad} input`, lhs, await dot(dx, x)], [`conv3d s${s} ${pad} filter`, lhs, await dot(df, f)]);
      const x2 = rand([2, 7, 7, ci], 23) as tf.Tensor4D;
      const f2 = rand([3, 3, ci, co], 24) as tf.Tensor4D;
      const y2 = tf.conv2d(x2, f2, s, pad);
      const dy2 = rand(y2.shape, 25);
      const dx2 = run.runKernel('Conv2DBackpropInput', { dy: dy2, filter: f2 }, { strides: [s, s], pad, dataFormat: 'NHWC', inputShape: x2.shape }) as tf.Tensor;
      const df2 = run.runKernel('Conv2DBackpropFilter', { x: x2, dy: dy2 }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: f2.shape }) as tf.Tensor;
      const lhs2 = await dot(dy2, y2);
      checks.push([`conv2d s${s} ${pad} input`, lhs2, await dot(dx2, x2)], [`conv2d s${s} ${pad} filter`, lhs2, await dot(df2, f2)]);
      tf.dispose([x, f, y, dy, dx, df, x2, f2, y2, dy2, dx2, df2]);
    }
    for (const [k, s, pad] of [[2, 2, 'valid'], [3, 2, 'same']] as const) {
      const x = rand([2, 6, 6, 3], 26) as tf.Tensor4D;
      const y = tf.maxPool(x, k, s, pad);
      const dy = rand(y.shape, 27);
      const dx = run.runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: k, strides: s, pad }) as tf.Tensor;
      checks.push([`maxPool k${k} s${s} ${pad}`, await dot(dy, y), await dot(dx, x)]);
      tf.dispose([x, y, dy, dx]);
    }
    for (const [name, lhs, rhs] of checks) expect(Math.abs(lhs - rhs), `${name}: <dy, f(x)> = ${lhs}, <f'(dy), x> = ${rhs}`).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
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
