/**
 * Convolution patches as matrix columns (im2col) and back (col2im), for 2D and 3D channels-last
 * convolutions (a 2D one is a 3D one of depth 1). With them a convolution's gradients become matrix
 * products that run on wasm's own (XNNPACK) BatchMatMul: dW = cols · dy, dcols = dy · Wᵀ.
 *
 * Output positions n are numbered (b, od, oh, ow) row-major, as the rows of dy [N, Cout] are; the
 * patch rows k are numbered (kd, kh, kw, ci), as the rows of a DHWIO / HWIO filter [K, Cout] are.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** A channels-last convolution's shape, strides, dilations and leading padding, in three dimensions. */
export interface ConvGeometry {
  batch: number;
  inDepth: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outDepth: number;
  outHeight: number;
  outWidth: number;
  filterDepth: number;
  filterHeight: number;
  filterWidth: number;
  strideDepth: number;
  strideHeight: number;
  strideWidth: number;
  dilationDepth: number;
  dilationHeight: number;
  dilationWidth: number;
  padFront: number;
  padTop: number;
  padLeft: number;
}

/** The geometry of tfjs's Conv2DInfo (depth 1) or Conv3DInfo. */
export function convGeometry(info: tf.backend_util.Conv2DInfo | tf.backend_util.Conv3DInfo): ConvGeometry {
  const i3 = 'inDepth' in info ? info : undefined;
  return {
    batch: info.batchSize,
    inDepth: i3?.inDepth ?? 1,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outDepth: i3?.outDepth ?? 1,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterDepth: i3?.filterDepth ?? 1,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideDepth: i3?.strideDepth ?? 1,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationDepth: i3?.dilationDepth ?? 1,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padFront: i3?.padInfo.front ?? 0,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Output positions N = batch · outDepth · outHeight · outWidth. */
export const outputPositions = (g: ConvGeometry): number => g.batch * g.outDepth * g.outHeight * g.outWidth;

/** Patch length K = filterDepth · filterHeight · filterWidth · inChannels. */
export const patchLength = (g: ConvGeometry): number => g.filterDepth * g.filterHeight * g.filterWidth * g.inChannels;

/**
 * Calls `visit(column, xOffset)` for the output positions n0 ≤ n < n1 (column = n − n0) and one filter
 * tap, with the offset of the tap's input pixel in x, or −1 where the tap falls on padding.
 */
function forEachPosition(g: ConvGeometry, n0: number, n1: number, kd: number, kh: number, kw: number, visit: (column: number, xOffset: number) => void): void {
  const rowStride = g.inWidth * g.inChannels;
  const planeStride = g.inHeight * rowStride;
  const batchStride = g.inDepth * planeStride;
  const perBatch = g.outDepth * g.outHeight * g.outWidth;
  const perPlane = g.outHeight * g.outWidth;
  let n = n0;
  while (n < n1) {
    const b = Math.floor(n / perBatch);
    let r = n - b * perBatch;
    const od = Math.floor(r / perPlane);
    r -= od * perPlane;
    const oh = Math.floor(r / g.outWidth);
    const owStart = r - oh * g.outWidth;
    const id = od * g.strideDepth + kd * g.dilationDepth - g.padFront;
    const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop;
    const rowInside = id >= 0 && id < g.inDepth && ih >= 0 && ih < g.inHeight;
    const rowBase = b * batchStride + id * planeStride + ih * rowStride;
    // One output row at a time: only the column index moves inside it.
    const owEnd = Math.min(g.outWidth, owStart + (n1 - n));
    for (let ow = owStart; ow < owEnd; ow++, n++) {
      const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft;
      visit(n - n0, rowInside && iw >= 0 && iw < g.inWidth ? rowBase + iw * g.inChannels : -1);
    }
  }
}

/**
 * cols[k, n − n0] = the input value patch row k reads at output position n (0 on padding), for
 * n0 ≤ n < n1; cols is [K, n1 − n0] row-major.
 */
export function im2col(x: Float32Array, g: ConvGeometry, n0: number, n1: number, cols: Float32Array): void {
  const count = n1 - n0;
  const c = g.inChannels;
  let tap = 0;
  for (let kd = 0; kd < g.filterDepth; kd++)
    for (let kh = 0; kh < g.filterHeight; kh++)
      for (let kw = 0; kw < g.filterWidth; kw++, tap++) {
        const rowBase = tap * c * count;
        // Channels innermost: contiguous reads; the writes advance along c rows in step (cache lines reused).
        forEachPosition(g, n0, n1, kd, kh, kw, (column, xOffset) => {
          let to = rowBase + column;
          if (xOffset < 0) for (let ci = 0; ci < c; ci++, to += count) cols[to] = 0;
          else for (let ci = 0; ci < c; ci++, to += count) cols[to] = x[xOffset + ci]!;
        });
      }
}

/**
 * The adjoint of im2col: dx[input pixel of (n, k)] += dcols[n − n0, k] for n0 ≤ n < n1, padding
 * dropped; dcols is [n1 − n0, K] row-major (as dy · Wᵀ comes out), dx the whole input, accumulated.
 */
export function col2imAdd(dcols: Float32Array, g: ConvGeometry, n0: number, n1: number, dx: Float32Array): void {
  const k = patchLength(g);
  const c = g.inChannels;
  let tap = 0;
  for (let kd = 0; kd < g.filterDepth; kd++)
    for (let kh = 0; kh < g.filterHeight; kh++)
      for (let kw = 0; kw < g.filterWidth; kw++, tap++) {
        const tapBase = tap * c;
        forEachPosition(g, n0, n1, kd, kh, kw, (column, xOffset) => {
          if (xOffset < 0) return;
          const from = column * k + tapBase;
          for (let ci = 0; ci < c; ci++) dx[xOffset + ci]! += dcols[from + ci]!;
        });
      }
}
