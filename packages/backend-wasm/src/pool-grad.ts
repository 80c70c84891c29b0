/**
 * MaxPoolGrad on wasm. tfjs-wasm 4.22's own gives wrong results (see test/pool-grad.test.ts). The
 * gradient of each window goes to its maximum in the input: the first one in row-major window order
 * when values tie, and none when the window holds no value above −∞, as the cpu backend decides.
 * One pass over the windows, channels innermost, on the heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { f32, zerosOnHeap, type WasmHeapBackend } from './wasm-heap';

export const maxPoolGrad: tf.KernelFunc = ({ inputs, backend: untyped, attrs }) => {
  const backend = untyped as WasmHeapBackend;
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const dx = zerosOnHeap(backend, [...input.shape]);
  const dxs = f32(backend, dx);
  const xs = f32(backend, input);
  const dys = f32(backend, dy);
  const best = new Float64Array(c);
  const at = new Int32Array(c);
  let dyOffset = 0;
  for (let b = 0; b < batchSize; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++, dyOffset += c) {
        best.fill(-Infinity);
        at.fill(-1);
        const h0 = oh * strideHeight - top;
        const w0 = ow * strideWidth - left;
        for (let kh = 0; kh < fh; kh += dh) {
          const ih = h0 + kh;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < fw; kw += dw) {
            const iw = w0 + kw;
            if (iw < 0 || iw >= inWidth) continue;
            const base = ((b * inHeight + ih) * inWidth + iw) * c;
            for (let ci = 0; ci < c; ci++) {
              const v = xs[base + ci]!;
              if (v > best[ci]!) {
                best[ci] = v;
                at[ci] = base + ci;
              }
            }
          }
        }
        for (let ci = 0; ci < c; ci++) if (at[ci]! >= 0) dxs[at[ci]!]! += dys[dyOffset + ci]!;
      }
  return dx;
};
