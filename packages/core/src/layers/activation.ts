import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module';
import { gelu, silu } from '../ops/activations';

/** torch.nn.GELU() (exact erf form); no parameters. */
export class GELU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x);
  }
}

/** torch.nn.SiLU() (swish); no parameters. */
export class SiLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return silu(x);
  }
}
