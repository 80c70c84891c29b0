/**
 * UnsortedSegmentSum on wasm: the gradient of gather (embeddings, codebook lookups). tfjs-wasm 4.22
 * has none, and the cpu backend's builds a mask, a product and a sum over the whole input for every
 * segment (quadratic: numSegments × x.size). This adds each row into its segment once, on the heap
 * (core's segmentSumInto, the loop core's cpu fix runs too).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, segmentSumInto } from '@vtok/core';
import type { WasmHeapBackend } from './wasm-heap';

export const segmentSumOnHeap: tf.KernelFunc = ({ inputs, backend: untyped, attrs }) => {
  const backend = untyped as WasmHeapBackend;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new DTypeError(`UnsortedSegmentSum on wasm: x must be float32 or int32, got ${x.dtype}`);
  }
  // segmentIds covers the leading axes of x (a vector of row ids in the gather gradient).
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const inner = rows === 0 ? 0 : tf.util.sizeFromShape(x.shape) / rows;
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const outValues = backend.typedArrayFromHeap(out);
  outValues.fill(0);
  segmentSumInto(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(segmentIds) as Int32Array, inner, numSegments, outValues);
  return out;
};
