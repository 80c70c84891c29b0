/**
 * Causal 3D convolution as a sum of 2D convolutions over frames: out[t] = Σ_dt conv2d(xpad[s·t + dt], w[dt]),
 * where xpad has k_t − 1 zero frames before the clip. This is the same function as core's causalConv3d
 * (tf.conv3d after the causal padding) but runs on each backend's conv2d, its fastest kernel:
 * tfjs-wasm 4.22's Conv3D is a scalar loop (0.1 GFLOP/s for a 3×3×3 conv at 128 channels on the bench
 * machine, against 6 GFLOP/s for this form there), which would make a 17-frame 128² clip take hours.
 *
 * Frame selection is a gather on a rank-3 view and every op stays at rank <= 4 (tfjs-webgpu computes
 * rank-5 pads and broadcasts wrongly). Frame 0 of the output only ever adds exact zeros from the padding
 * to its own term, so it is bit-identical to the conv of a one-frame clip.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '@vtok/core';

export interface FrameConvOptions {
  /** [time, height, width]. */
  stride: [number, number, number];
  /** Spatial zero padding on each side (k // 2 in Open-MAGVIT2). */
  padding: [number, number];
}

/**
 * x [B, T, H, W, Cin], w [kt, kh, kw, Cin, Cout] (DHWIO), optional bias [Cout] ->
 * [B, floor((T − 1)/s_t) + 1, H', W', Cout].
 */
export function causalConv3dFrames(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | undefined, options: FrameConvOptions): tf.Tensor {
  const [b, t, h, wd, cin] = x.shape as number[];
  const [kt, kh, kw, wcin, cout] = w.shape as number[];
  if (x.rank !== 5 || w.rank !== 5 || wcin !== cin) {
    throw new ShapeError(`causal conv3d: expected x [B,T,H,W,${wcin}] and w [kt,kh,kw,Cin,Cout], got x [${x.shape}] and w [${w.shape}]`);
  }
  const [st, sh, sw] = options.stride;
  const [ph, pw] = options.padding;
  const outFrames = Math.floor((t - 1) / st) + 1;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [ph, ph], [pw, pw], [0, 0]];
  return tf.tidy(() => {
    // Frames as rows: [B, T, H·W·C], with k_t − 1 zero frames in front.
    let rows = tf.reshape(x, [b, t, h * wd * cin]);
    if (kt > 1) rows = tf.pad(rows, [[0, 0], [kt - 1, 0], [0, 0]]);
    let sum: tf.Tensor | undefined;
    for (let dt = 0; dt < kt; dt++) {
      const picked = Array.from({ length: outFrames }, (_, i) => i * st + dt);
      const identity = kt === 1 && st === 1;
      const frames = identity ? rows : tf.gather(rows, tf.tensor1d(picked, 'int32'), 1);
      const images = tf.reshape(frames, [b * outFrames, h, wd, cin]) as tf.Tensor4D;
      const kernel = (kt === 1 ? tf.reshape(w, [kh, kw, cin, cout]) : tf.reshape(tf.slice(w, [dt, 0, 0, 0, 0], [1, kh, kw, cin, cout]), [kh, kw, cin, cout])) as tf.Tensor4D;
      const out = tf.conv2d(images, kernel, [sh, sw], ph === 0 && pw === 0 ? 'valid' : pad);
      sum = sum ? tf.add(sum, out) : out;
    }
    let y = sum as tf.Tensor4D;
    if (bias) y = tf.add(y, bias);
    const [, ho, wo] = y.shape;
    return tf.reshape(y, [b, outFrames, ho, wo, cout]);
  });
}
