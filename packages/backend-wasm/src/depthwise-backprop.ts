/**
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput on wasm: one pass over
 * the output positions on the heap, channels innermost. tfjs-wasm 4.22 has neither; core's groupNorm
 * on one sample (a depthwise 1×1 convolution with bias) and a stride-2 blur (anti-aliased
 * down-sampling) need both in training.
 *
 * A depthwise convolution does C·M·kh·kw multiply-adds per output position, as few as an elementwise
 * op, so plain loops run it in linear time; a patch matrix and a product would only add copies.
 */
import * as tf from '@tensorflow/tfjs-core';
import { f32, zerosOnHeap, type WasmHeapBackend } from './wasm-heap';

interface DepthwiseBackpropAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Calls `visit(xOffset, dyOffset, filterOffset)` for every output position and every filter tap that
 * falls inside the input: offsets of the pixel's channel 0 in x, the position's in dy, the tap's in
 * the filter [kh, kw, C, M].
 */
function forEachTap(info: tf.backend_util.Conv2DInfo, visit: (xOffset: number, dyOffset: number, filterOffset: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  let dyOffset = 0;
  for (let b = 0; b < batchSize; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++, dyOffset += outChannels)
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight + kh * dilationHeight - top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth + kw * dilationWidth - left;
            if (iw < 0 || iw >= inWidth) continue;
            visit(((b * inHeight + ih) * inWidth + iw) * inChannels, dyOffset, (kh * filterWidth + kw) * outChannels);
          }
        }
}

export const depthwiseConv2dNativeBackpropFilter: tf.KernelFunc = ({ inputs, backend: untyped, attrs }) => {
  const backend = untyped as WasmHeapBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseBackpropAttrs & { filterShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const c = info.inChannels;
  const m = info.outChannels / c;
  // Float64 sums: one filter value sums over every output position of the batch.
  const sums = new Float64Array(tf.util.sizeFromShape(filterShape));
  const dw = backend.makeOutput([...filterShape], 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  forEachTap(info, (xOffset, dyOffset, filterOffset) => {
    if (m === 1) {
      for (let ci = 0; ci < c; ci++) sums[filterOffset + ci]! += xs[xOffset + ci]! * dys[dyOffset + ci]!;
      return;
    }
    for (let ci = 0, o = 0; ci < c; ci++) {
      const v = xs[xOffset + ci]!;
      for (let j = 0; j < m; j++, o++) sums[filterOffset + o]! += v * dys[dyOffset + o]!;
    }
  });
  f32(backend, dw).set(sums);
  return dw;
};

export const depthwiseConv2dNativeBackpropInput: tf.KernelFunc = ({ inputs, backend: untyped, attrs }) => {
  const backend = untyped as WasmHeapBackend;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseBackpropAttrs & { inputShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const c = info.inChannels;
  const m = info.outChannels / c;
  const dx = zerosOnHeap(backend, [...inputShape]);
  const dxs = f32(backend, dx);
  const dys = f32(backend, dy);
  const fs = f32(backend, filter);
  forEachTap(info, (xOffset, dyOffset, filterOffset) => {
    if (m === 1) {
      for (let ci = 0; ci < c; ci++) dxs[xOffset + ci]! += fs[filterOffset + ci]! * dys[dyOffset + ci]!;
      return;
    }
    for (let ci = 0, o = 0; ci < c; ci++) {
      let s = 0;
      for (let j = 0; j < m; j++, o++) s += fs[filterOffset + o]! * dys[dyOffset + o]!;
      dxs[xOffset + ci]! += s;
    }
  });
  return dx;
};
