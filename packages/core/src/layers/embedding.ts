import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError } from '../errors';
import { Module } from '../module';
import type { SeededRandom } from '../random';
import { formatShape } from '../ops/validate';
import { normalInit, resolveRng } from './init';

export interface EmbeddingOptions {
  rng?: SeededRandom;
}

/**
 * torch.nn.Embedding: a [num, dim] table (N(0,1) init as in PyTorch) looked up by int32 ids.
 * The lookup is tf.gather, whose gradient to the table is an UnsortedSegmentSum.
 */
export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    for (const [name, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`Embedding: ${name} must be a positive integer, got ${v}`);
    }
    this.weight = this.addParameter('weight', normalInit(resolveRng(options.rng), [numEmbeddings, embeddingDim]));
  }

  /**
   * int32 ids of any shape → [...ids.shape, dim]. Ids are not range-checked here (that needs a
   * read-back); out-of-range ids throw on cpu/wasm and read zeros on webgpu.
   */
  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') {
      throw new DTypeError(`Embedding: ids must be int32, got ${ids.dtype} (shape ${formatShape(ids.shape)})`);
    }
    return tf.gather(this.weight, ids);
  }
}
