/**
 * What the kernels written for training need from tfjs-wasm 4.22's backend: tensors made on its heap
 * and typed views of them (internals of BackendWasm 4.22), and a way
 * to call the backend's own kernels with it.
 */
import * as tf from '@tensorflow/tfjs-core';

export type HeapArray = Float32Array | Int32Array | Uint8Array;

export type WasmHeapBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): HeapArray;
};

/** A float32 view of a tensor on the heap. Take it after the last allocation: growing the heap detaches older views. */
export const f32 = (backend: WasmHeapBackend, info: tf.TensorInfo): Float32Array => backend.typedArrayFromHeap(info) as Float32Array;

/** A zero-filled float32 tensor on the heap (makeOutput leaves the memory as malloc gave it). */
export function zerosOnHeap(backend: WasmHeapBackend, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  f32(backend, out).fill(0);
  return out;
}

/** Runs the kernel registered on 'wasm' under `name` now (the patched one where this package patched it). */
export function runWasmKernel(name: string, backend: WasmHeapBackend, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`@vtok/backend-wasm: the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}
