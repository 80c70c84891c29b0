/**
 * Speed, not correctness: tfjs-wasm 4.22's Slice kernel starts with `backend.readSync(x)`, which copies
 * the WHOLE input out of the wasm heap into a fresh JavaScript buffer on every call, however small the
 * slice. Splitting a [3072, 1024] weight into three row blocks took 40–100 ms per call that way (the
 * copy and the garbage it leaves), against well under 1 ms for the same bytes moved inside the heap.
 * SplitV and Unpack call that same Slice once per output, so splitting q, k and v out of an attention
 * projection paid for three full copies.
 *
 * These kernels read the input through a view of the heap instead and copy only what the slice holds,
 * in runs as long as the layout allows (a run spans every trailing axis the slice covers entirely).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The wasm backend's own view of its heap (an internal of tfjs-backend-wasm 4.22, checked at patch time). */
type WasmHeapBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

type HeapArray = Float32Array | Int32Array | Uint8Array;

let patched = false;

/** Below this many elements a run is copied element by element (cheaper than a subarray per run). */
const SHORT_RUN = 32;

/**
 * dst = src[begin : begin + size] for a row-major tensor of `shape` (begin and size already
 * normalised: non-negative, within the shape).
 */
export function copySlice(src: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: HeapArray): void {
  const rank = shape.length;
  if (size.some((s) => s === 0)) return;
  if (rank === 0) {
    dst[0] = src[0]!;
    return;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;

  // The last axis the slice does not cover entirely; everything after it is one contiguous block.
  let partial = rank - 1;
  while (partial > 0 && begin[partial] === 0 && size[partial] === shape[partial]) partial--;
  const run = size[partial]! * strides[partial]!;
  const outer = size.slice(0, partial);
  const runs = outer.reduce((a, b) => a * b, 1);

  const index = new Array<number>(partial).fill(0);
  let dstOffset = 0;
  for (let r = 0; r < runs; r++) {
    let srcOffset = begin[partial]! * strides[partial]!;
    for (let i = 0; i < partial; i++) srcOffset += (begin[i]! + index[i]!) * strides[i]!;
    if (run < SHORT_RUN) {
      for (let j = 0; j < run; j++) dst[dstOffset + j] = src[srcOffset + j]!;
    } else {
      dst.set(src.subarray(srcOffset, srcOffset + run), dstOffset);
    }
    dstOffset += run;
    // Odometer over the outer axes.
    for (let i = partial - 1; i >= 0; i--) {
      if (++index[i]! < outer[i]!) break;
      index[i] = 0;
    }
  }
}

function sliceOnHeap(backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  // Views taken after makeOutput: allocating may grow the heap and replace its buffer.
  copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

const onHeap = (backend: tf.KernelBackend, x: tf.TensorInfo): backend is WasmHeapBackend =>
  x.dtype !== 'string' && typeof (backend as Partial<WasmHeapBackend>).typedArrayFromHeap === 'function';

/** Replaces Slice, SplitV and Unpack on 'wasm' (idempotent). Returns whether they are in place. */
export function patchWasmSlice(): boolean {
  if (patched) return true;
  const slice = tf.getKernel('Slice', 'wasm');
  const splitV = tf.getKernel('SplitV', 'wasm');
  const unpack = tf.getKernel('Unpack', 'wasm');
  if (!slice || !splitV || !unpack) return false;

  const replace = (config: tf.KernelConfig, kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({ ...config, kernelFunc });
  };

  replace(slice, (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (!onHeap(args.backend as tf.KernelBackend, x)) return slice.kernelFunc(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceOnHeap(args.backend as WasmHeapBackend, x, begin_, size_);
  });

  replace(splitV, (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (!onHeap(args.backend as tf.KernelBackend, x)) return splitV.kernelFunc(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[ax] = s;
      const part = sliceOnHeap(args.backend as WasmHeapBackend, x, [...begin], size);
      begin[ax]! += s;
      return part;
    });
  });

  replace(unpack, (args) => {
    const value = args.inputs['value'] as tf.TensorInfo;
    if (!onHeap(args.backend as tf.KernelBackend, value)) return unpack.kernelFunc(args);
    const rank = value.shape.length;
    const axis = ((args.attrs as unknown as { axis: number }).axis + rank) % rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = [...value.shape];
    size[axis] = 1;
    return Array.from({ length: value.shape[axis]! }, (_, i) => {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = i;
      const part = sliceOnHeap(args.backend as WasmHeapBackend, value, begin, size);
      return { ...part, shape: outShape };
    });
  });

  patched = true;
  return true;
}
