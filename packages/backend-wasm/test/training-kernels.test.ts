// The gradient kernels this package runs on wasm itself (conv backprops, depthwise backprops,
// MaxPoolGrad, UnsortedSegmentSum): each against the cpu backend's kernel on the same inputs, over
// strides, paddings, dilations and batches; the replaced tfjs-wasm kernels fail the adjoint identity
// that ours meet; nothing runs on the cpu fallback and nothing is left behind.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expectClose, expectExact, prng } from '@vtok/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { convFilterGradient, convInputGradient } from '../src/conv-backprop';
import { convGeometry } from '../src/im2col';
import type { WasmHeapBackend } from '../src/wasm-heap';
import { cpuFallbackCalls, cpuFallbackKernels, cpuFallbackLiveTensors, resetCpuFallbackCalls, wasm, wasmTrainingKernels } from '../src/index';

const TOL = 1e-4;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Input {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype: 'float32' | 'int32';
}
const floats = (shape: number[], seed: number): Input => ({ shape, dtype: 'float32', values: Float32Array.from(prng(seed).normals(size(shape))) });
/** Few distinct values, so max-pool windows hold ties. */
const steps = (shape: number[], seed: number): Input => {
  const r = prng(seed);
  return { shape, dtype: 'float32', values: Float32Array.from({ length: size(shape) }, () => r.int(5) - 2) };
};

// The kernels tfjs-wasm itself registered, kept before wasm() replaces the wrong ones.
const stock = Object.fromEntries(['Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2', 'MaxPoolGrad'].map((k) => [k, tf.getKernel(k, 'wasm')!]));

/** Runs one kernel on `backend` with fresh input tensors; returns the output's shape and values. */
async function runKernel(backend: 'cpu' | 'wasm', name: string, inputs: Record<string, Input>, attrs: object): Promise<{ shape: number[]; data: Float32Array | Int32Array }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const made = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape, v.dtype)]));
  const out = tf.engine().runKernel(name, made, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, data: (await out.data()) as Float32Array | Int32Array };
  tf.dispose([out, ...Object.values(made)]);
  expect(tf.memory().numTensors, `${name} on ${backend}: live tensors`).toBe(before);
  return result;
}

/** The kernel on wasm gives the cpu kernel's result, without the cpu fallback. */
async function sameAsCpu(name: string, inputs: Record<string, Input>, attrs: object, label: string): Promise<void> {
  const want = await runKernel('cpu', name, inputs, attrs);
  resetCpuFallbackCalls();
  const dataIds = tf.engine().backend.numDataIds();
  const got = await runKernel('wasm', name, inputs, attrs);
  expect(cpuFallbackCalls(), `${label}: kernels run on the cpu fallback`).toEqual({});
  expect(tf.engine().backend.numDataIds(), `${label}: wasm buffers left`).toBe(dataIds);
  const ref = { shape: want.shape, data: want.data };
  if (want.data instanceof Int32Array) await expectExact({ shape: got.shape, data: got.data }, ref, label);
  else await expectClose({ shape: got.shape, data: got.data }, ref, TOL, label);
}

type Pad2d = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
const explicit: Pad2d = [[0, 0], [1, 2], [0, 1], [0, 0]];

describe('gradient kernels on wasm', () => {
  beforeAll(async () => {
    await wasm().activate();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('are registered on wasm, and none of them runs on the cpu fallback', () => {
    for (const name of Object.keys(wasmTrainingKernels)) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect(cpuFallbackKernels().filter((k) => wasmTrainingKernels[k])).toEqual([]);
  });

  it('Conv2DBackpropFilter: strides, same/valid/explicit/numeric padding, batch, odd shapes', async () => {
    const cases: [number[], number[], number | [number, number], Pad2d][] = [
      [[1, 7, 7, 3], [3, 3, 3, 4], 1, 'same'],
      [[2, 7, 7, 3], [3, 3, 3, 4], 2, 'same'],
      [[2, 8, 9, 5], [3, 3, 5, 6], 1, 'valid'],
      [[3, 9, 8, 4], [4, 4, 4, 2], 2, 'valid'],
      [[2, 7, 6, 3], [3, 2, 3, 5], [1, 2], explicit],
      [[2, 6, 6, 2], [3, 3, 2, 3], 2, 1],
      [[1, 5, 5, 8], [1, 1, 8, 16], 1, 'valid'],
    ];
    for (const [i, [xShape, filterShape, strides, pad]] of cases.entries()) {
      const info = tf.backend_util.computeConv2DInfo(xShape as never, filterShape as never, strides, 1, pad);
      const attrs = { strides, pad, dataFormat: 'NHWC', filterShape };
      await sameAsCpu('Conv2DBackpropFilter', { x: floats(xShape, i), dy: floats(info.outShape, 100 + i) }, attrs, `conv2d filter ${JSON.stringify([xShape, filterShape, strides, pad])}`);
    }
  });

  it('Conv3DBackpropFilterV2 and Conv3DBackpropInputV2: NDHWC, strides, same/valid, batch', async () => {
    const cases: [number[], number[], number | [number, number, number], 'same' | 'valid'][] = [
      [[1, 4, 5, 5, 2], [3, 3, 3, 2, 3], 1, 'same'],
      [[2, 5, 6, 6, 2], [3, 3, 3, 2, 4], 2, 'valid'],
      [[2, 5, 6, 7, 3], [2, 3, 3, 3, 2], [1, 2, 2], 'same'],
      [[1, 3, 4, 4, 4], [1, 1, 1, 4, 5], 1, 'valid'],
    ];
    for (const [i, [xShape, filterShape, strides, pad]] of cases.entries()) {
      const info = tf.backend_util.computeConv3DInfo(xShape as never, filterShape as never, strides, 1, pad);
      const dy = floats(info.outShape, 200 + i);
      const label = JSON.stringify([xShape, filterShape, strides, pad]);
      await sameAsCpu('Conv3DBackpropFilterV2', { x: floats(xShape, i), dy }, { strides, pad, filterShape }, `conv3d filter ${label}`);
      await sameAsCpu('Conv3DBackpropInputV2', { dy, filter: floats(filterShape, 300 + i) }, { strides, pad, inputShape: xShape }, `conv3d input ${label}`);
    }
  });

  it('conv backprops cut into chunks of output positions give the unchunked result', async () => {
    const backend = tf.backend() as WasmHeapBackend;
    const x = tf.tensor(floats([2, 6, 7, 3], 1).values, [2, 6, 7, 3]);
    const w = tf.tensor(floats([3, 3, 3, 4], 2).values, [3, 3, 3, 4]);
    const info = tf.backend_util.computeConv2DInfo(x.shape as never, w.shape as never, 2, 1, 'same');
    const dy = tf.tensor(floats(info.outShape, 3).values, info.outShape);
    const g = convGeometry(info);
    const read = async (t: tf.TensorInfo) => {
      const out = tf.engine().makeTensorFromTensorInfo(t);
      const data = await out.data();
      out.dispose();
      return { shape: t.shape, data };
    };
    const before = tf.memory().numTensors;
    // 27 values per patch: one position per chunk, then 5, then all 32 at once.
    const whole = await read(convFilterGradient(backend, x, dy, g, [3, 3, 3, 4]));
    const wholeDx = await read(convInputGradient(backend, dy, w, g, [2, 6, 7, 3]));
    for (const elements of [27, 5 * 27]) {
      await expectClose(await read(convFilterGradient(backend, x, dy, g, [3, 3, 3, 4], elements)), whole, TOL, `filter gradient in chunks of ${elements / 27}`);
      await expectClose(await read(convInputGradient(backend, dy, w, g, [2, 6, 7, 3], elements)), wholeDx, TOL, `input gradient in chunks of ${elements / 27}`);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, dy]);
  });

  it('DepthwiseConv2dNative backprops: multipliers 1 and 2, strides, same/valid/explicit, batch', async () => {
    const cases: [number[], number[], number | [number, number], Pad2d][] = [
      [[1, 6, 6, 3], [3, 3, 3, 1], 1, 'same'],
      [[2, 7, 7, 4], [3, 3, 4, 1], 2, 'same'],
      [[2, 9, 8, 2], [3, 3, 2, 2], 2, 'valid'],
      [[2, 7, 6, 3], [3, 3, 3, 1], [2, 1], explicit],
      [[2, 6, 7, 2], [2, 3, 2, 3], 1, 1],
      [[3, 4, 4, 8], [1, 1, 8, 1], 1, 'valid'],
    ];
    for (const [i, [xShape, filterShape, strides, pad]] of cases.entries()) {
      const info = tf.backend_util.computeConv2DInfo(xShape as never, filterShape as never, strides, 1, pad, undefined, true);
      const dy = floats(info.outShape, 400 + i);
      const common = { strides, dilations: 1, pad };
      const label = JSON.stringify([xShape, filterShape, strides, pad]);
      await sameAsCpu('DepthwiseConv2dNativeBackpropFilter', { x: floats(xShape, i), dy }, { ...common, filterShape }, `depthwise filter ${label}`);
      await sameAsCpu('DepthwiseConv2dNativeBackpropInput', { dy, filter: floats(filterShape, 500 + i) }, { ...common, inputShape: xShape }, `depthwise input ${label}`);
    }
  });

  // tfjs's depthwise gradient refuses dilations > 1, and the cpu backprop kernels ignore them; ours
  // honour them, checked against wasm's own dilated forward kernel: <dy, f(x)> = <f'(dy), x>.
  it('DepthwiseConv2dNative backprops with dilations are the adjoints of the dilated convolution', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const dot = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.sum(tf.mul(a, b)).dataSync()[0]!);
    for (const [xShape, filterShape, dilations, pad] of [
      [[2, 9, 9, 3], [3, 3, 3, 2], 2, 'same'],
      [[1, 10, 9, 2], [2, 3, 2, 1], [2, 3], 'valid'],
    ] as const) {
      const x = tf.tensor(floats([...xShape], 1).values, [...xShape]) as tf.Tensor4D;
      const f = tf.tensor(floats([...filterShape], 2).values, [...filterShape]) as tf.Tensor4D;
      const y = tf.depthwiseConv2d(x, f, 1, pad, 'NHWC', dilations as number | [number, number]);
      const dy = tf.tensor(floats(y.shape, 3).values, y.shape);
      const attrs = { strides: 1, dilations, pad };
      const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
      const df = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: f.shape }) as tf.Tensor;
      const lhs = dot(dy, y);
      const label = JSON.stringify([xShape, filterShape, dilations, pad]);
      expect(Math.abs(dot(dx, x) - lhs) / (1 + Math.abs(lhs)), `input ${label}`).toBeLessThan(TOL);
      expect(Math.abs(dot(df, f) - lhs) / (1 + Math.abs(lhs)), `filter ${label}`).toBeLessThan(TOL);
      tf.dispose([x, f, y, dy, dx, df]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('MaxPoolGrad: windows, strides, same/valid/explicit, batch, ties go to the first maximum', async () => {
    const cases: [number[], number | [number, number], number | [number, number], Pad2d][] = [
      [[1, 6, 6, 3], 2, 2, 'valid'],
      [[2, 6, 6, 3], 3, 2, 'same'],
      [[2, 7, 5, 4], 3, 1, 'same'],
      [[3, 8, 8, 2], [2, 3], [2, 1], 'valid'],
      [[2, 7, 6, 3], 3, 2, explicit],
    ];
    for (const [i, [xShape, filterSize, strides, pad]] of cases.entries()) {
      const info = tf.backend_util.computePool2DInfo(xShape as never, filterSize, strides, 1, pad);
      for (const [kind, input] of [['distinct', floats(xShape, i)], ['ties', steps(xShape, i)]] as const) {
        // The cpu kernel finds the maxima in `input` itself; `output` is passed as tfjs's gradient does.
        const output = await runKernel('cpu', 'MaxPool', { x: input }, { filterSize, strides, pad });
        const inputs = { dy: floats(info.outShape, 600 + i), input, output: { shape: output.shape, values: output.data, dtype: 'float32' as const } };
        await sameAsCpu('MaxPoolGrad', inputs, { filterSize, strides, pad }, `maxPool grad ${kind} ${JSON.stringify([xShape, filterSize, strides, pad])}`);
      }
    }
  });

  it('UnsortedSegmentSum: float and int, rows of any shape, ids out of range dropped, empty segments zero', async () => {
    const r = prng(7);
    const ids = (n: number, segments: number): Input => ({ shape: [n], dtype: 'int32', values: Int32Array.from({ length: n }, () => r.int(segments + 2) - 1) });
    await sameAsCpu('UnsortedSegmentSum', { x: floats([50, 7], 1), segmentIds: ids(50, 13) }, { numSegments: 13 }, 'float [50, 7] into 13');
    await sameAsCpu('UnsortedSegmentSum', { x: floats([40, 3, 4], 2), segmentIds: ids(40, 30) }, { numSegments: 30 }, 'float [40, 3, 4] into 30');
    await sameAsCpu('UnsortedSegmentSum', { x: floats([9], 3), segmentIds: ids(9, 4) }, { numSegments: 4 }, 'float [9] into 4');
    const xi: Input = { shape: [30, 5], dtype: 'int32', values: Int32Array.from({ length: 150 }, () => r.int(2000) - 1000) };
    await sameAsCpu('UnsortedSegmentSum', { x: xi, segmentIds: ids(30, 8) }, { numSegments: 8 }, 'int32 [30, 5] into 8');
  });

  it('UnsortedSegmentSum with ids over two leading axes sums whole rows (TensorFlow semantics)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
    const ids = tf.tensor2d([[0, 2, 0], [5, 1, 2]], [2, 3], 'int32');
    // Typed as a vector; the op takes ids over any leading axes.
    const out = tf.unsortedSegmentSum(x, ids as unknown as tf.Tensor1D, 3);
    expect(out.shape).toEqual([3, 2]);
    expect(await out.array()).toEqual([[6, 8], [9, 10], [14, 16]]);
    tf.dispose([x, ids, out]);
  });

  // Linear maps and their gradients meet <dy, f(x)> = <f'(dy), x>: a check that needs no reference
  // backend. tfjs-wasm 4.22's own Conv3DBackprop*V2 and MaxPoolGrad fail it; ours pass.
  it('the replaced tfjs-wasm kernels fail the adjoint identity, ours meet it', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    for (const k of Object.values(stock)) k.setupFunc?.(backend);
    const dot = async (a: tf.Tensor, b: tf.Tensor) => {
      const d = tf.tidy(() => tf.sum(tf.mul(a, b)));
      const v = (await d.data())[0]!;
      d.dispose();
      return v;
    };
    const t = (input: Input) => tf.tensor(input.values, input.shape);
    // NaN (tfjs-wasm's conv3d input gradient gives some) counts as the largest gap.
    const gap = (lhs: number, rhs: number) => (Number.isNaN(rhs) ? Infinity : Math.abs(lhs - rhs) / (1 + Math.abs(lhs)));
    /** The adjoint gap of `kernel` (ours when absent: the registered one), on a fresh output. */
    const adjointGap = async (lhs: number, other: tf.Tensor, name: string, inputs: tf.NamedTensorInfoMap, attrs: object, kernel?: tf.KernelConfig) => {
      const out = kernel
        ? tf.engine().makeTensorFromTensorInfo(kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo)
        : (tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor);
      const g = gap(lhs, await dot(out, other));
      out.dispose();
      return g;
    };
    const before = tf.memory().numTensors;
    for (const [s, pad] of [[1, 'same'], [2, 'valid']] as const) {
      const x = t(floats([1, 5, 6, 6, 3], 20)) as tf.Tensor5D;
      const f = t(floats([3, 3, 3, 3, 4], 21)) as tf.Tensor5D;
      const y = tf.conv3d(x, f, s, pad);
      const dy = t(floats(y.shape, 22));
      const lhs = await dot(dy, y);
      const strides = [s, s, s];
      const inputAttrs = { strides, pad, inputShape: x.shape };
      const filterAttrs = { strides, pad, filterShape: f.shape };
      expect(await adjointGap(lhs, x, 'Conv3DBackpropInputV2', { dy, filter: f }, inputAttrs), `conv3d s${s} ${pad} input`).toBeLessThan(TOL);
      expect(await adjointGap(lhs, f, 'Conv3DBackpropFilterV2', { x, dy }, filterAttrs), `conv3d s${s} ${pad} filter`).toBeLessThan(TOL);
      expect(await adjointGap(lhs, x, 'Conv3DBackpropInputV2', { dy, filter: f }, inputAttrs, stock.Conv3DBackpropInputV2), `stock conv3d s${s} ${pad} input`).toBeGreaterThan(0.01);
      if (s === 2) {
        // tfjs-wasm's filter gradient is right at stride 1.
        expect(await adjointGap(lhs, f, 'Conv3DBackpropFilterV2', { x, dy }, filterAttrs, stock.Conv3DBackpropFilterV2), `stock conv3d s${s} ${pad} filter`).toBeGreaterThan(0.01);
      }
      tf.dispose([x, f, y, dy]);
    }
    for (const [k, s, pad] of [[2, 2, 'valid'], [3, 2, 'same']] as const) {
      const x = t(floats([2, 6, 6, 3], 26)) as tf.Tensor4D;
      const y = tf.maxPool(x, k, s, pad);
      const dy = t(floats(y.shape, 27));
      // maxPool is linear on the cone where its maxima stay put, x included.
      const lhs = await dot(dy, y);
      const inputs = { dy, input: x, output: y };
      const attrs = { filterSize: k, strides: s, pad };
      expect(await adjointGap(lhs, x, 'MaxPoolGrad', inputs, attrs), `maxPool k${k} s${s} ${pad}`).toBeLessThan(TOL);
      // tfjs-wasm's is wrong for 2×2 windows at stride 2 (the common down-sampling), right for 3×3 'same'.
      if (k === 2) expect(await adjointGap(lhs, x, 'MaxPoolGrad', inputs, attrs, stock.MaxPoolGrad), `stock maxPool k${k} s${s} ${pad}`).toBeGreaterThan(0.01);
      tf.dispose([x, y, dy]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(cpuFallbackLiveTensors()).toBe(0);
  });
});
