/**
 * Convolutions with PyTorch's padding semantics over tfjs's channels-last kernels. tfjs's 'same'
 * pads the extra pixel after and only when the stride needs it, which shifts a stride-2 PyTorch
 * conv by one pixel; here padding is always explicit, as PyTorch's `padding=` is.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../errors';
import { assertFloat, assertNonNegativeInt, assertPositiveInt, assertRank, formatShape } from './validate';

/** number: all sides; [ph, pw]: both sides of each axis; [[top, bottom], [left, right]]: each side. */
export type Padding2d = number | [number, number] | [[number, number], [number, number]];

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** As torch.nn.Conv2d's `padding` (zeros), plus 'same' (stride 1 only, as in PyTorch) and 'valid'. Default 0. */
  padding?: Padding2d | 'same' | 'valid';
  dilation?: number | [number, number];
}

export interface CausalConv3dOptions {
  stride?: number | [number, number, number];
  /** Spatial zero padding (H, W) as in Conv2dOptions; time is always padded causally. Default 0. */
  padding?: Padding2d;
  /**
   * How the k_t − 1 frames before the first one are filled: 'zeros' (default; Open-MAGVIT2's
   * ConvBlock3D, F.pad with zeros) or 'replicate' (copies of frame 0).
   */
  temporalPadMode?: 'zeros' | 'replicate';
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Normalises every accepted padding form to [[top, bottom], [left, right]]. */
export function resolvePadding2d(
  padding: Padding2d | 'same' | 'valid',
  kernel: [number, number],
  dilation: [number, number],
  stride: [number, number],
  op: string,
): [[number, number], [number, number]] {
  let sides: [[number, number], [number, number]];
  if (padding === 'valid') sides = [[0, 0], [0, 0]];
  else if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new ValueError(`${op}: padding 'same' needs stride 1 (as in PyTorch), got stride [${stride}]; give the padding explicitly`);
    }
    // PyTorch puts the odd pixel of the total padding at the end.
    sides = [0, 1].map((a) => {
      const total = dilation[a] * (kernel[a] - 1);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }) as [[number, number], [number, number]];
  } else if (typeof padding === 'number') sides = [[padding, padding], [padding, padding]];
  else if (typeof padding[0] === 'number') {
    const [ph, pw] = padding as [number, number];
    sides = [[ph, ph], [pw, pw]];
  } else sides = padding as [[number, number], [number, number]];
  for (const p of sides.flat()) assertNonNegativeInt(p, op, 'padding');
  return sides;
}

/**
 * Inserts d − 1 zeros between kernel taps along H and W. tfjs has no gradient for dilated Conv2D,
 * so a dilated conv runs as an ordinary conv with this larger, differentiable kernel.
 */
function dilateKernel(w: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  let k: tf.Tensor = w;
  if (dh > 1) {
    const rows = tf.pad(tf.reshape(k, [kh, 1, kw * ci * co]), [[0, 0], [0, dh - 1], [0, 0]]);
    k = tf.slice(tf.reshape(rows, [kh * dh, kw * ci * co]), [0, 0], [(kh - 1) * dh + 1, -1]);
  }
  const khd = (kh - 1) * dh + 1;
  if (dw > 1) {
    const cols = tf.pad(tf.reshape(k, [khd, kw, 1, ci * co]), [[0, 0], [0, 0], [0, dw - 1], [0, 0]]);
    k = tf.slice(tf.reshape(cols, [khd, kw * dw, ci * co]), [0, 0, 0], [-1, (kw - 1) * dw + 1, -1]);
  }
  return tf.reshape(k, [khd, (kw - 1) * dw + 1, ci, co]);
}

function checkOutput(size: number, axis: string, op: string, x: tf.Tensor): void {
  if (size < 1) throw new ShapeError(`${op}: input ${formatShape(x.shape)} is too small for the kernel along ${axis} (output size ${size})`);
}

/**
 * torch.nn.functional.conv2d for NHWC input x [B,H,W,Cin] and HWIO kernel w [kh,kw,Cin,Cout]
 * (groups = 1), with PyTorch's zero padding. Returns [B,H',W',Cout].
 */
export function conv2dTorch(x: tf.Tensor, w: tf.Tensor, options: Conv2dOptions = {}): tf.Tensor4D {
  const op = 'conv2dTorch';
  assertFloat(x, op, 'x');
  assertFloat(w, op, 'w');
  assertRank(x, 4, op, 'x', '[B,H,W,C]');
  assertRank(w, 4, op, 'w', '[kh,kw,Cin,Cout] (HWIO)');
  if (w.shape[2] !== x.shape[3]) {
    throw new ShapeError(`${op}: kernel input channels ${w.shape[2]} (w ${formatShape(w.shape)}) do not match x channels ${x.shape[3]} (x ${formatShape(x.shape)})`);
  }
  const stride = pair(options.stride ?? 1);
  const dilation = pair(options.dilation ?? 1);
  for (const s of stride) assertPositiveInt(s, op, 'stride');
  for (const d of dilation) assertPositiveInt(d, op, 'dilation');
  const kernel: [number, number] = [(w.shape as number[])[0], (w.shape as number[])[1]];
  const [[top, bottom], [left, right]] = resolvePadding2d(options.padding ?? 0, kernel, dilation, stride, op);
  for (const [a, name, pad] of [[0, 'height', top + bottom], [1, 'width', left + right]] as const) {
    const span = dilation[a] * (kernel[a] - 1) + 1;
    checkOutput(Math.floor((x.shape[1 + a] + pad - span) / stride[a]) + 1, name, op, x);
  }
  return tf.tidy(() => {
    const k = dilation[0] > 1 || dilation[1] > 1 ? dilateKernel(w as tf.Tensor4D, dilation) : (w as tf.Tensor4D);
    const noPad = top === 0 && bottom === 0 && left === 0 && right === 0;
    const pad: 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] = noPad
      ? 'valid'
      : [[0, 0], [top, bottom], [left, right], [0, 0]];
    return tf.conv2d(x as tf.Tensor4D, k, stride, pad);
  });
}

/**
 * Causal 3D convolution for NDHWC input x [B,T,H,W,Cin] and DHWIO kernel w [kt,kh,kw,Cin,Cout]:
 * k_t − 1 frames are padded before the first frame and none after, so output frame t only sees
 * input frames <= t (an image is a one-frame video). Spatial padding is zeros, as given.
 * Returns [B,T',H',W',Cout] with T' = floor((T − 1)/s_t) + 1.
 */
export function causalConv3d(x: tf.Tensor, w: tf.Tensor, options: CausalConv3dOptions = {}): tf.Tensor5D {
  const op = 'causalConv3d';
  assertFloat(x, op, 'x');
  assertFloat(w, op, 'w');
  assertRank(x, 5, op, 'x', '[B,T,H,W,C]');
  assertRank(w, 5, op, 'w', '[kt,kh,kw,Cin,Cout] (DHWIO)');
  if (w.shape[3] !== x.shape[4]) {
    throw new ShapeError(`${op}: kernel input channels ${w.shape[3]} (w ${formatShape(w.shape)}) do not match x channels ${x.shape[4]} (x ${formatShape(x.shape)})`);
  }
  const s = options.stride ?? 1;
  const stride: [number, number, number] = typeof s === 'number' ? [s, s, s] : s;
  for (const v of stride) assertPositiveInt(v, op, 'stride');
  const mode = options.temporalPadMode ?? 'zeros';
  if (mode !== 'zeros' && mode !== 'replicate') throw new ValueError(`${op}: temporalPadMode must be 'zeros' or 'replicate', got '${mode}'`);
  const [kt, kh, kw] = w.shape as number[];
  const [[top, bottom], [left, right]] = resolvePadding2d(options.padding ?? 0, [kh, kw], [1, 1], [stride[1], stride[2]], op);
  checkOutput(Math.floor(((x.shape as number[])[2] + top + bottom - kh) / stride[1]) + 1, 'height', op, x);
  checkOutput(Math.floor(((x.shape as number[])[3] + left + right - kw) / stride[2]) + 1, 'width', op, x);
  return tf.tidy(() => {
    // Temporal padding runs on a rank-3 view (tfjs-webgpu 4.22's rank-5 pad emits invalid WGSL, and tfjs's
    // Tile gradient stops at rank 4); spatial padding is left to conv2d, so no padded copy of x is made.
    const [b, t, h, wd, c] = x.shape as number[];
    const cout = (w.shape as number[])[4];
    let rows = tf.reshape(x, [b, t, h * wd * c]);
    const front = kt - 1;
    if (front > 0) {
      rows =
        mode === 'zeros'
          ? tf.pad(rows, [[0, 0], [front, 0], [0, 0]])
          : tf.concat([tf.tile(tf.slice(rows, [0, 0, 0], [b, 1, -1]), [1, front, 1]), rows], 1);
    }
    const tp = t + front;
    const spatialPad: 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] =
      top + bottom + left + right === 0 ? 'valid' : [[0, 0], [top, bottom], [left, right], [0, 0]];
    // A sum over the kt temporal taps of 2D convolutions of the frames each tap sees: the same function
    // as conv3d 'valid', on each backend's conv2d (tfjs-wasm 4.22's Conv3D is a scalar loop, ~0.1 GFLOP/s
    // for a 3×3×3 conv at 128 channels, against ~6 for this form). Output frame 0 adds only exact zeros
    // from the padding to its own tap, so an image convolves bit-identically as a one-frame clip.
    const outFrames = Math.floor((tp - kt) / stride[0]) + 1;
    const taps = tf.reshape(w, [kt, kh * kw * c * cout]);
    let sum: tf.Tensor | undefined;
    for (let dt = 0; dt < kt; dt++) {
      const frames =
        stride[0] === 1
          ? outFrames === tp
            ? rows
            : tf.slice(rows, [0, dt, 0], [b, outFrames, -1])
          : tf.gather(rows, tf.tensor1d(Array.from({ length: outFrames }, (_, i) => i * stride[0] + dt), 'int32'), 1);
      const images = tf.reshape(frames, [b * outFrames, h, wd, c]) as tf.Tensor4D;
      // The tap is a row of w viewed as [kt, ·]: a rank-5 slice would differentiate through a rank-5 pad,
      // which tfjs-webgpu 4.22 computes wrongly.
      const tap = tf.reshape(kt === 1 ? w : tf.slice(taps, [dt, 0], [1, -1]), [kh, kw, c, cout]) as tf.Tensor4D;
      const out = tf.conv2d(images, tap, [stride[1], stride[2]], spatialPad);
      sum = sum ? tf.add(sum, out) : out;
    }
    const [, ho, wo] = (sum as tf.Tensor4D).shape;
    return tf.reshape(sum as tf.Tensor, [b, outFrames, ho, wo, cout]) as tf.Tensor5D;
  });
}
