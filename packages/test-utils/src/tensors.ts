/** Bridges between golden tensors (plain arrays) and tfjs tensors, and the layout changes parity tests need. */
import * as tf from '@tensorflow/tfjs-core';

/** Values with a row-major shape: a golden tensor, core's RawTensor, or anything shaped like them. */
export interface ShapedArray<A extends ArrayLike<number> = ArrayLike<number>> {
  shape: readonly number[];
  data: A;
}

type IntOrFloat = Float32Array | Int32Array;

/** A tf tensor holding a golden / raw tensor's values (int32 for integer data, float32 otherwise). */
export function tensorOf(raw: ShapedArray<IntOrFloat | Uint8Array | Float64Array>): tf.Tensor {
  const dtype = raw.data instanceof Int32Array ? 'int32' : 'float32';
  const data = raw.data instanceof Float64Array ? Float32Array.from(raw.data) : raw.data;
  return tf.tensor(data, [...raw.shape], dtype);
}

/** Moves axis `from` to position `to` (a transpose of plain arrays, dtype kept). */
function moveAxisRaw<A extends IntOrFloat>(raw: ShapedArray<A>, from: number, to: number): { shape: number[]; data: A } {
  const perm = raw.shape.map((_, i) => i);
  perm.splice(to, 0, perm.splice(from, 1)[0]);
  const shape = perm.map((p) => raw.shape[p]);
  const inStrides = strides(raw.shape);
  const outStrides = perm.map((p) => inStrides[p]);
  const out = new (raw.data.constructor as { new (n: number): A })(raw.data.length);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < idx.length; k++) src += idx[k] * outStrides[k];
    out[o] = raw.data[src];
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return { shape, data: out };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function moveAxis(x: tf.Tensor, from: number, to: number): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm.splice(to, 0, perm.splice(from, 1)[0]);
  return tf.transpose(x, perm);
}

/**
 * Channels first → channels last: NCHW → NHWC, NCTHW → NTHWC (axis 1 moves last), the layout change
 * between PyTorch's golden tensors and ours. A tf tensor gives a new tf tensor; plain arrays give plain arrays.
 */
export function channelsLast(x: tf.Tensor): tf.Tensor;
export function channelsLast(x: ShapedArray<IntOrFloat>): { shape: number[]; data: IntOrFloat };
export function channelsLast(x: tf.Tensor | ShapedArray<IntOrFloat>): tf.Tensor | ShapedArray<IntOrFloat> {
  if (x.shape.length < 3) throw new Error(`channelsLast: expected rank >= 3 (batch, channels, ...), got shape [${x.shape}]`);
  return x instanceof tf.Tensor ? moveAxis(x, 1, x.rank - 1) : moveAxisRaw(x, 1, x.shape.length - 1);
}

/** Channels last → channels first: NHWC → NCHW, NTHWC → NCTHW (the last axis moves to 1). */
export function channelsFirst(x: tf.Tensor): tf.Tensor;
export function channelsFirst(x: ShapedArray<IntOrFloat>): { shape: number[]; data: IntOrFloat };
export function channelsFirst(x: tf.Tensor | ShapedArray<IntOrFloat>): tf.Tensor | ShapedArray<IntOrFloat> {
  if (x.shape.length < 3) throw new Error(`channelsFirst: expected rank >= 3 (batch, ..., channels), got shape [${x.shape}]`);
  return x instanceof tf.Tensor ? moveAxis(x, x.rank - 1, 1) : moveAxisRaw(x, x.shape.length - 1, 1);
}
