/**
 * GroupNorm (+ SiLU) for the MaskGIT-VQGAN decoder, NHWC, built from kernels that are fast on every
 * backend. The generic composite (core's groupNorm) reduces over non-innermost axes, which tfjs-wasm
 * runs as a transpose plus a reduction, and broadcasts at rank 4, which tfjs-wasm runs element by
 * element: about 150 ms of CPU per call on a 256×256×128 activation. Here the sums are matrix products
 * with rows of ones and the per-channel scale and shift is one depthwise 1×1 convolution with bias
 * (about 35 ms in all). Same maths as torch.nn.GroupNorm: two-pass biased variance over
 * (C/G channels × H × W), then γ·x̂ + β.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GroupNorm } from '@vtok/core';

/**
 * Per-(image, group) means of `values` [B, H, W·C], broadcast back to channels: [B, 1, C]. Summed in two
 * stages (over H, then over W) so no float32 accumulation runs over more than max(H, W) terms.
 */
function groupMeans(values: tf.Tensor3D, h: number, w: number, c: number, groups: number): tf.Tensor3D {
  const b = values.shape[0];
  const per = c / groups;
  const overRows = tf.matMul(tf.ones([b, 1, h]), values); // [B, 1, W·C]
  const channelSums = tf.matMul(tf.ones([b, 1, w]), tf.reshape(overRows, [b, w, c])); // [B, 1, C]
  const groupMean = tf.div(tf.sum(tf.reshape(channelSums, [b, groups, per]), 2, true), h * w * per); // [B, G, 1]
  return tf.reshape(tf.broadcastTo(groupMean, [b, groups, per]), [b, 1, c]);
}

/** norm(x) (and SiLU of it when `silu`) for x [B, H, W, C] with the affine parameters of `norm`. */
export function groupNormSilu(x: tf.Tensor, norm: GroupNorm, silu: boolean): tf.Tensor {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const g = norm.numGroups;
    const mean = groupMeans(tf.reshape(x, [b, h, w * c]) as tf.Tensor3D, h, w, c, g);
    const pixels = tf.reshape(x, [b, h * w, c]);
    const squares = tf.reshape(tf.squaredDifference(pixels, mean), [b, h, w * c]) as tf.Tensor3D;
    const variance = groupMeans(squares, h, w, c, g);
    // y = x·scale + shift with scale = γ/√(var + eps), shift = β − mean·scale. For one image the vectors
    // are per channel (rank 1: tfjs-wasm checks the rank its bias was created with, not the reshaped one).
    const perChannel = b === 1;
    const m = perChannel ? tf.reshape(mean, [c]) : mean;
    let scale: tf.Tensor = tf.rsqrt(tf.add(perChannel ? tf.reshape(variance, [c]) : variance, norm.eps));
    if (norm.weight) scale = tf.mul(scale, norm.weight);
    let shift: tf.Tensor = tf.neg(tf.mul(m, scale));
    if (norm.bias) shift = tf.add(shift, norm.bias);
    const y = perChannel
      ? // One vectorised pass: a depthwise 1×1 convolution is a per-channel multiply-add.
        tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: shift })
      : tf.reshape(tf.add(tf.mul(pixels, scale), shift), [b, h, w, c]);
    return silu ? tf.mul(y, tf.sigmoid(y)) : y;
  });
}
