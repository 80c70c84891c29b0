/**
 * Speed: @vtok/core's groupNorm takes its statistics from the kernel GROUP_MOMENTS when the backend has
 * one, else from a composite (products with rows of ones, a squared-deviation pass, and the same again).
 * On tfjs-wasm that composite reads the activation three times and has XNNPACK pack it twice as a
 * matrix operand. This kernel reads it once, on the heap: per (row, group) a float64 sum and sum of
 * squares of the values minus a shift (the group's first value), so the variance does not cancel
 * (E[(x−K)²] − E[x−K]² loses nothing when K is near the mean; float64 keeps 29 bits more than the data).
 * Each row is computed on its own, in a fixed order, so its statistics do not depend on the other rows.
 * The gradient is core's, registered with the kernel name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GROUP_MOMENTS } from '@vtok/core';

/** The wasm backend's own view of its heap (an internal of tfjs-backend-wasm 4.22). */
type WasmBackendish = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.BackendValues): tf.TensorInfo;
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

/**
 * Mean and biased variance per (row, group) of `x` [rows, S, C] (row-major) with `groups` contiguous
 * channel groups, into `mean` and `variance` [rows, groups].
 */
export function groupMomentsInto(
  x: Float32Array,
  rows: number,
  positions: number,
  channels: number,
  groups: number,
  mean: Float32Array,
  variance: Float32Array,
): void {
  const per = channels / groups;
  const n = positions * per;
  const sum = new Float64Array(groups);
  const squares = new Float64Array(groups);
  const shift = new Float64Array(groups);
  for (let r = 0; r < rows; r++) {
    const base = r * positions * channels;
    sum.fill(0);
    squares.fill(0);
    for (let g = 0; g < groups; g++) shift[g] = x[base + g * per]!;
    for (let p = 0; p < positions; p++) {
      let i = base + p * channels;
      for (let g = 0; g < groups; g++) {
        const k = shift[g]!;
        let s = 0;
        let q = 0;
        for (let j = 0; j < per; j++, i++) {
          const d = x[i]! - k;
          s += d;
          q += d * d;
        }
        sum[g]! += s;
        squares[g]! += q;
      }
    }
    for (let g = 0; g < groups; g++) {
      const m = sum[g]! / n;
      mean[r * groups + g] = shift[g]! + m;
      variance[r * groups + g] = Math.max(0, squares[g]! / n - m * m);
    }
  }
}

let registered = false;

/** Registers GROUP_MOMENTS on 'wasm' (idempotent). Returns whether it is in place. */
export function registerWasmGroupMoments(): boolean {
  if (registered || tf.getKernel(GROUP_MOMENTS, 'wasm')) return (registered = true);
  tf.registerKernel({
    kernelName: GROUP_MOMENTS,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: untyped, attrs }) => {
      const backend = untyped as WasmBackendish;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const { numGroups } = attrs as unknown as { numGroups: number };
      const [rows, positions, channels] = x.shape as [number, number, number];
      const shape = [rows, numGroups];
      if (typeof backend.typedArrayFromHeap !== 'function') {
        // Without heap views (not tfjs-wasm 4.22): a copy out, the same arithmetic, copies back in.
        const mean = new Float32Array(rows * numGroups);
        const variance = new Float32Array(rows * numGroups);
        groupMomentsInto(backend.readSync(x.dataId) as Float32Array, rows, positions, channels, numGroups, mean, variance);
        return [backend.makeOutput(shape, 'float32', undefined, mean), backend.makeOutput(shape, 'float32', undefined, variance)];
      }
      const mean = backend.makeOutput(shape, 'float32');
      const variance = backend.makeOutput(shape, 'float32');
      // Views taken after makeOutput: allocating may grow the heap and replace its buffer.
      groupMomentsInto(
        backend.typedArrayFromHeap(x) as Float32Array,
        rows,
        positions,
        channels,
        numGroups,
        backend.typedArrayFromHeap(mean) as Float32Array,
        backend.typedArrayFromHeap(variance) as Float32Array,
      );
      return [mean, variance];
    },
  });
  return (registered = true);
}
