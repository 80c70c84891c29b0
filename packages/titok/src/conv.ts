/**
 * A stride-1 Conv2d of the pixel decoder with its bias fused into the convolution kernel (one pass
 * instead of a convolution plus a broadcasting add over a 32 MB activation). Odd kernels with "same"
 * padding: tfjs's 'same' equals PyTorch's padding k//2 on every side for stride 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2d } from '@vtok/core';

export function convSame(conv: Conv2d, x: tf.Tensor): tf.Tensor {
  return tf.fused.conv2d({ x: x as tf.Tensor4D, filter: conv.weight as tf.Tensor4D, strides: 1, pad: 'same', bias: conv.bias });
}
