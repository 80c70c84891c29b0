/**
 * Conv2DBackpropFilter, Conv3DBackpropFilterV2 and Conv3DBackpropInputV2 on wasm, as matrix products
 * on tfjs-wasm's own (XNNPACK) BatchMatMul around a linear patch gather (see im2col.ts):
 *
 *   filter gradient  dW [K, Cout] = cols [K, N] · dy [N, Cout]
 *   input gradient   dcols [N, K] = dy [N, Cout] · Wᵀ, then col2im adds each patch back into dx
 *
 * tfjs-wasm 4.22 has no Conv2DBackpropFilter (the cpu fallback ran it through TensorBuffer.get, about
 * 3 s for one 3×3 32→32 conv on five 16² frames) and computes both Conv3D backprops wrongly.
 * Long inputs are cut into chunks of output positions so the patch matrix stays under PATCH_ELEMENTS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '@vtok/core';
import { col2imAdd, convGeometry, im2col, outputPositions, patchLength, type ConvGeometry } from './im2col';
import { f32, runWasmKernel, zerosOnHeap, type WasmHeapBackend } from './wasm-heap';

/** At most this many float32 in one patch matrix (64 MB). */
const PATCH_ELEMENTS = 1 << 24;

/** Rows n0 ≤ n < n1 of a row-major [N, cols] tensor as a [1, n1 − n0, cols] tensor (the tensor itself when whole). */
function rowsOf(backend: WasmHeapBackend, t: tf.TensorInfo, rows: number, cols: number, n0: number, n1: number): { part: tf.TensorInfo; copied: boolean } {
  if (n0 === 0 && n1 === rows) return { part: { ...t, shape: [1, rows, cols] }, copied: false };
  const part = backend.makeOutput([1, n1 - n0, cols], 'float32');
  f32(backend, part).set(f32(backend, t).subarray(n0 * cols, n1 * cols));
  return { part, copied: true };
}

/** Output positions per chunk: as many as keep the patch matrix under `patchElements`. */
const chunkOf = (g: ConvGeometry, patchElements: number): number => Math.max(1, Math.floor(patchElements / patchLength(g)));

/** dW for x and dy of the geometry g, shaped `filterShape` ([..., Cin, Cout]). */
export function convFilterGradient(backend: WasmHeapBackend, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry, filterShape: number[], patchElements = PATCH_ELEMENTS): tf.TensorInfo {
  const k = patchLength(g);
  const n = outputPositions(g);
  const cout = filterShape[filterShape.length - 1]!;
  if (n === 0 || k === 0) return zerosOnHeap(backend, filterShape);
  const chunk = chunkOf(g, patchElements);
  let result: tf.TensorInfo | undefined;
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const n1 = Math.min(n, n0 + chunk);
    const cols = backend.makeOutput([1, k, n1 - n0], 'float32');
    const dyRows = rowsOf(backend, dy, n, cout, n0, n1);
    try {
      im2col(f32(backend, x), g, n0, n1, f32(backend, cols));
      const part = runWasmKernel('BatchMatMul', backend, { a: cols, b: dyRows.part }, { transposeA: false, transposeB: false });
      if (!result) result = part;
      else {
        const sum = f32(backend, result);
        const add = f32(backend, part);
        for (let i = 0; i < sum.length; i++) sum[i]! += add[i]!;
        backend.disposeData(part.dataId);
      }
    } finally {
      backend.disposeData(cols.dataId);
      if (dyRows.copied) backend.disposeData(dyRows.part.dataId);
    }
  }
  return { ...result!, shape: filterShape };
}

/** dx for dy and the filter (DHWIO / HWIO, [K, Cout] in memory) of the geometry g, shaped `inputShape`. */
export function convInputGradient(backend: WasmHeapBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry, inputShape: number[], patchElements = PATCH_ELEMENTS): tf.TensorInfo {
  const k = patchLength(g);
  const n = outputPositions(g);
  const cout = filter.shape[filter.shape.length - 1]!;
  const dx = zerosOnHeap(backend, inputShape);
  if (n === 0 || k === 0) return dx;
  const w: tf.TensorInfo = { ...filter, shape: [1, k, cout] };
  const chunk = chunkOf(g, patchElements);
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const n1 = Math.min(n, n0 + chunk);
    const dyRows = rowsOf(backend, dy, n, cout, n0, n1);
    try {
      const dcols = runWasmKernel('BatchMatMul', backend, { a: dyRows.part, b: w }, { transposeA: false, transposeB: true });
      col2imAdd(f32(backend, dcols), g, n0, n1, f32(backend, dx));
      backend.disposeData(dcols.dataId);
    } finally {
      if (dyRows.copied) backend.disposeData(dyRows.part.dataId);
    }
  }
  return dx;
}

interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

interface Conv3DBackpropAttrs {
  strides: [number, number, number] | number;
  pad: 'valid' | 'same';
}

export const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') {
    throw new ValueError(`Conv2DBackpropFilter on wasm: dataFormat must be 'NHWC' (channels last, as the wasm conv2d), got 'NCHW'`);
  }
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  return convFilterGradient(backend as WasmHeapBackend, x, dy, convGeometry(info), [...filterShape]);
};

export const conv3DBackpropFilterV2: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, filterShape } = attrs as unknown as Conv3DBackpropAttrs & { filterShape: [number, number, number, number, number] };
  const info = tf.backend_util.computeConv3DInfo(x.shape as [number, number, number, number, number], filterShape, strides, 1, pad);
  return convFilterGradient(backend as WasmHeapBackend, x, dy, convGeometry(info), [...filterShape]);
};

export const conv3DBackpropInputV2: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, inputShape } = attrs as unknown as Conv3DBackpropAttrs & { inputShape: [number, number, number, number, number] };
  const info = tf.backend_util.computeConv3DInfo(inputShape, filter.shape as [number, number, number, number, number], strides, 1, pad);
  return convInputGradient(backend as WasmHeapBackend, dy, filter, convGeometry(info), [...inputShape]);
};
