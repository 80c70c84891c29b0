/**
 * The MaskGIT-VQGAN codebook (`pixel_quantize.embedding.weight`, [codes, zChannels]). TiTok's legacy
 * head predicts logits over its rows; the decoder input is the softmax-weighted sum of the rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, Embedding, Module, type SeededRandom, uniformInit } from '@vtok/core';

export class PixelCodebook extends Module {
  readonly embedding: Embedding;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    rng: SeededRandom,
  ) {
    super();
    this.embedding = this.addModule('embedding', new Embedding(numEmbeddings, embeddingDim, { rng }));
    // As the official VectorQuantizer: U(−1/K, 1/K).
    const init = uniformInit(rng, [numEmbeddings, embeddingDim], 1 / numEmbeddings);
    this.embedding.weight.assign(init);
    init.dispose();
  }

  /** logits [..., codes] → softmax over codes → weighted sum of rows, [..., embeddingDim]. */
  softLookup(logits: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const rows = tf.reshape(logits, [-1, this.numEmbeddings]);
      const mixed = tf.matMul(tf.softmax(rows), this.embedding.weight);
      return tf.reshape(mixed, [...logits.shape.slice(0, -1), this.embeddingDim]);
    });
  }

  /** int32 ids of any shape → rows, [...ids.shape, embeddingDim] (MaskGIT-VQGAN get_codebook_entry). */
  lookup(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new DTypeError(`PixelCodebook.lookup: ids must be int32, got ${ids.dtype}`);
    return this.embedding.forward(ids);
  }
}
