/**
 * Kernel layout converters for checkpoint loaders. PyTorch stores conv kernels [O, I, kh, kw]
 * (3D: [O, I, kt, kh, kw]); our layers keep tfjs's channels-last HWIO / DHWIO so convolutions run
 * without a per-call transpose. Each function returns a new tensor; the caller keeps the input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertRank } from '../ops/validate';

/** [O, I, kh, kw] → [kh, kw, I, O]. */
export function torchConv2dWeightToHWIO(w: tf.Tensor): tf.Tensor4D {
  assertRank(w, 4, 'torchConv2dWeightToHWIO', 'w', '[O,I,kh,kw]');
  return tf.transpose(w as tf.Tensor4D, [2, 3, 1, 0]);
}

/** [kh, kw, I, O] → [O, I, kh, kw]. */
export function hwioToTorchConv2dWeight(w: tf.Tensor): tf.Tensor4D {
  assertRank(w, 4, 'hwioToTorchConv2dWeight', 'w', '[kh,kw,I,O]');
  return tf.transpose(w as tf.Tensor4D, [3, 2, 0, 1]);
}

/** [O, I, kt, kh, kw] → [kt, kh, kw, I, O]. */
export function torchConv3dWeightToDHWIO(w: tf.Tensor): tf.Tensor5D {
  assertRank(w, 5, 'torchConv3dWeightToDHWIO', 'w', '[O,I,kt,kh,kw]');
  return tf.transpose(w as tf.Tensor5D, [2, 3, 4, 1, 0]);
}

/** [kt, kh, kw, I, O] → [O, I, kt, kh, kw]. */
export function dhwioToTorchConv3dWeight(w: tf.Tensor): tf.Tensor5D {
  assertRank(w, 5, 'dhwioToTorchConv3dWeight', 'w', '[kt,kh,kw,I,O]');
  return tf.transpose(w as tf.Tensor5D, [4, 3, 0, 1, 2]);
}
