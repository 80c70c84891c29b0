import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { Module } from '../module';
import { groupNorm, layerNorm, type GroupNormOpOptions } from '../ops/norm';
import { assertDim, assertFloat, assertMinRank } from '../ops/validate';

export interface LayerNormOptions {
  /** Default 1e-5, PyTorch's (TiTok keeps it; HF BERT uses 1e-12). */
  eps?: number;
  elementwiseAffine?: boolean;
}

/** torch.nn.LayerNorm(dim) over the last axis: `weight` (ones) and `bias` (zeros) of shape [dim]. */
export class LayerNorm extends Module {
  readonly eps: number;
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly dim: number,
    options: LayerNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw new ConfigError(`LayerNorm: dim must be a positive integer, got ${dim}`);
    this.eps = options.eps ?? 1e-5;
    if (options.elementwiseAffine ?? true) {
      this.weight = this.addParameter('weight', tf.ones([dim]));
      this.bias = this.addParameter('bias', tf.zeros([dim]));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    assertFloat(x, 'LayerNorm');
    assertMinRank(x, 1, 'LayerNorm', 'x', '[...,C]');
    assertDim(x, -1, this.dim, 'LayerNorm', 'x', 'channels');
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export interface GroupNormOptions {
  /** Default 1e-5, PyTorch's; Open-MAGVIT2 and the MaskGIT-VQGAN decoder pass 1e-6. */
  eps?: number;
  affine?: boolean;
}

/**
 * torch.nn.GroupNorm(numGroups, numChannels) for channels-last input [B, ...spatial, C]; the
 * statistics of a group span every spatial (and temporal) position, or with `{ causal: true }` per call
 * (clips [B, T, ...spatial, C]) the frames up to each frame's own. `weight`/`bias` shape [C]. The op is
 * core's `groupNorm`.
 */
export class GroupNorm extends Module {
  readonly eps: number;
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || !Number.isInteger(numChannels) || numChannels % numGroups !== 0) {
      throw new ConfigError(`GroupNorm: numChannels (${numChannels}) must be a multiple of a positive numGroups (${numGroups})`);
    }
    this.eps = options.eps ?? 1e-5;
    if (options.affine ?? true) {
      this.weight = this.addParameter('weight', tf.ones([numChannels]));
      this.bias = this.addParameter('bias', tf.zeros([numChannels]));
    }
  }

  forward(x: tf.Tensor, options: GroupNormOpOptions = {}): tf.Tensor {
    assertFloat(x, 'GroupNorm');
    assertMinRank(x, 3, 'GroupNorm', 'x', '[B,...spatial,C]');
    assertDim(x, -1, this.numChannels, 'GroupNorm', 'x', 'channels');
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps, options);
  }
}
