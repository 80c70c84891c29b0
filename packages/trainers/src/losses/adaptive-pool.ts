/**
 * torch.nn.AdaptiveMaxPool2d for channels-last input: output cell (i, j) is the maximum over rows
 * [⌊i·H/h⌋, ⌈(i+1)·H/h⌉) and columns [⌊j·W/w⌋, ⌈(j+1)·W/w⌉), so any input size works (smaller inputs
 * repeat values, as in PyTorch). When the size divides evenly it is one ordinary max pool.
 */
import * as tf from '@tensorflow/tfjs-core';

/** x [B, H, W, C] → [B, h, w, C]. */
export function adaptiveMaxPool2d(x: tf.Tensor4D, [h, w]: readonly [number, number]): tf.Tensor4D {
  const [, H, W] = x.shape;
  if (H % h === 0 && W % w === 0) {
    if (H === h && W === w) return tf.clone(x);
    return tf.maxPool(x, [H / h, W / w], [H / h, W / w], 'valid');
  }
  return tf.tidy(() => poolAxis(poolAxis(x, 1, h), 2, w));
}

/** The maximum over each adaptive bin of one spatial axis. */
function poolAxis(x: tf.Tensor4D, axis: 1 | 2, out: number): tf.Tensor4D {
  const size = x.shape[axis];
  if (size === out) return x;
  const bins: tf.Tensor[] = [];
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    const begin = [0, 0, 0, 0];
    const extent = [-1, -1, -1, -1];
    begin[axis] = start;
    extent[axis] = end - start;
    bins.push(tf.max(tf.slice(x, begin, extent), axis, true));
  }
  return tf.concat(bins, axis) as tf.Tensor4D;
}
