/**
 * Kernels that replace tfjs-backend-cpu 4.22's own where they are defective. Registered when core is
 * imported (the cpu backend registers its kernels the same way), so every user of the cpu backend gets them.
 *
 * UnsortedSegmentSum (the gradient of gather: embeddings, codebook lookups): the stock kernel builds a
 * mask, a product and a sum over the whole input for every segment — numSegments × x.size work and
 * 3 × numSegments kernel calls — which made a MaskGIT training step on cpu 3.6× its forward pass —
 * and it returns float32 for int32 input. This one adds each row into its segment once, in x's dtype.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DTypeError } from '../errors';

type Numbers = Float32Array | Int32Array;

/**
 * out[ids[r]] += x[r] for rows r of x (`inner` values each); rows whose id is outside
 * [0, numSegments) are dropped, as tf.unsortedSegmentSum does. `out` must start zeroed.
 * Shared with backend-wasm, which runs it on the wasm heap.
 */
export function segmentSumInto(x: ArrayLike<number>, ids: ArrayLike<number>, inner: number, numSegments: number, out: { [i: number]: number }): void {
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r]!;
    if (id < 0 || id >= numSegments) continue;
    const from = r * inner;
    const to = id * inner;
    for (let j = 0; j < inner; j++) out[to + j]! += x[from + j]!;
  }
}

interface CpuBackendData {
  data: { get(dataId: tf.DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Numbers): tf.TensorInfo;
}

const segmentSumOnCpu: tf.KernelFunc = ({ inputs, backend: untyped, attrs }) => {
  const backend = untyped as unknown as CpuBackendData;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new DTypeError(`UnsortedSegmentSum on cpu: x must be float32 or int32, got ${x.dtype}`);
  }
  // segmentIds covers the leading axes of x (a vector of row ids in the gather gradient).
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const inner = rows === 0 ? 0 : tf.util.sizeFromShape(x.shape) / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = x.dtype === 'int32' ? new Int32Array(tf.util.sizeFromShape(outShape)) : new Float32Array(tf.util.sizeFromShape(outShape));
  const values = backend.data.get(x.dataId).values as Numbers;
  const ids = backend.data.get(segmentIds.dataId).values as Int32Array;
  segmentSumInto(values, ids, inner, numSegments, out);
  return backend.makeTensorInfo(outShape, x.dtype, out);
};

/** Our cpu kernels, by kernel name; exported so tests can tell ours from the stock ones. */
export const CPU_KERNEL_FIXES: Readonly<Record<string, tf.KernelFunc>> = { UnsortedSegmentSum: segmentSumOnCpu };

/** Replaces the stock cpu kernels listed in CPU_KERNEL_FIXES (idempotent). */
export function registerCpuKernelFixes(): void {
  for (const [kernelName, kernelFunc] of Object.entries(CPU_KERNEL_FIXES)) {
    if (tf.getKernel(kernelName, 'cpu')?.kernelFunc === kernelFunc) continue;
    if (tf.getKernel(kernelName, 'cpu')) tf.unregisterKernel(kernelName, 'cpu');
    tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
  }
}

registerCpuKernelFixes();
