/**
 * Released Open-MAGVIT2 checkpoints are PyTorch `.ckpt` files (Lightning: zip + pickle, `state_dict`
 * inside, with LitEma copies). They are read with @vtok/core's safe reader, which rebuilds tensors only
 * (an allow-list of torch's rebuild functions; any other global is refused, nothing is executed) and
 * substitutes the EMA weights where the file has them.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { readTorchCheckpoint, selectTorchStateDict, torchTensorsToTf } from '@vtok/core';

export interface ReadTorchWeightsOptions {
  preferEma: boolean;
  /**
   * A global outside the allow-list in the pickle: 'refuse' (default) throws a PickleSecurityError;
   * 'opaque' reads it as inert data (still nothing runs), for checkpoints whose hyper-parameters hold
   * such objects.
   */
  unknownGlobals?: 'refuse' | 'opaque';
}

/** The checkpoint's model tensors by PyTorch name (EMA values where chosen); the caller disposes them. */
export function readTorchWeights(bytes: Uint8Array, options: ReadTorchWeightsOptions): Record<string, tf.Tensor> {
  const root = readTorchCheckpoint(bytes, { unknownGlobals: options.unknownGlobals ?? 'refuse' });
  return torchTensorsToTf(selectTorchStateDict(root, { preferEma: options.preferEma }).tensors);
}
