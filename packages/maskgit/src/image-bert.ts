/**
 * ImageBert, the generator of TiTok-L-32 and B-64: a Hugging Face `BertModel` without pooler plus an
 * `lm_head`, with the official state-dict names (`model.embeddings.word_embeddings.weight`,
 * `model.encoder.layer.{i}.attention.self.query.weight`, ..., `model.lm_head.weight`). BERT is post-LN
 * with LayerNorm eps 1e-12 and exact GELU; row 0 of the token-type table is added to every position.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, Module, ModuleList, gelu } from '@vtok/core';
import type { MaskGITConfigInput } from './config';
import { MaskGITGenerator, type MaskGITModelOptions, checkModelType } from './generator';
import { multiHeadAttention } from './attention';
import { initLikeOfficial } from './init';

/** HF BertConfig's layer_norm_eps as ImageBert sets it. */
export const BERT_LAYER_NORM_EPS = 1e-12;
/** BertConfig's default type_vocab_size: the token-type table has two rows, only row 0 is used. */
const TYPE_VOCAB_SIZE = 2;

const dropout = (x: tf.Tensor, rate: number, training: boolean): tf.Tensor => (training && rate > 0 ? tf.dropout(x, rate) : x);

class BertEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly layerNorm: LayerNorm;

  constructor(vocab: number, positions: number, hidden: number) {
    super();
    this.wordEmbeddings = this.addModule('word_embeddings', new Embedding(vocab, hidden));
    this.positionEmbeddings = this.addModule('position_embeddings', new Embedding(positions, hidden));
    this.tokenTypeEmbeddings = this.addModule('token_type_embeddings', new Embedding(TYPE_VOCAB_SIZE, hidden));
    this.layerNorm = this.addModule('LayerNorm', new LayerNorm(hidden, { eps: BERT_LAYER_NORM_EPS }));
  }

  /** word[ids] + position[0..N) + token_type[0], then LayerNorm. */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const n = (ids.shape as number[])[1];
      const hidden = this.layerNorm.dim;
      const positions = tf.slice(this.positionEmbeddings.weight, [0, 0], [n, hidden]);
      const tokenType = tf.slice(this.tokenTypeEmbeddings.weight, [0, 0], [1, hidden]);
      return this.layerNorm.forward(tf.add(tf.add(this.wordEmbeddings.forward(ids), positions), tokenType));
    });
  }
}

class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(hidden: number) {
    super();
    this.query = this.addModule('query', new Linear(hidden, hidden));
    this.key = this.addModule('key', new Linear(hidden, hidden));
    this.value = this.addModule('value', new Linear(hidden, hidden));
  }
}

/** `dense` then LayerNorm(x + residual): BertSelfOutput and BertOutput have this shape. */
class DenseAddNorm extends Module {
  readonly dense: Linear;
  readonly layerNorm: LayerNorm;
  constructor(input: number, hidden: number) {
    super();
    this.dense = this.addModule('dense', new Linear(input, hidden));
    this.layerNorm = this.addModule('LayerNorm', new LayerNorm(hidden, { eps: BERT_LAYER_NORM_EPS }));
  }
  forward(x: tf.Tensor, residual: tf.Tensor, dropoutRate: number, training: boolean): tf.Tensor {
    return tf.tidy(() => this.layerNorm.forward(tf.add(dropout(this.dense.forward(x), dropoutRate, training), residual)));
  }
}

class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: DenseAddNorm;
  constructor(hidden: number) {
    super();
    this.self = this.addModule('self', new BertSelfAttention(hidden));
    this.output = this.addModule('output', new DenseAddNorm(hidden, hidden));
  }
}

class BertIntermediate extends Module {
  readonly dense: Linear;
  constructor(hidden: number, intermediate: number) {
    super();
    this.dense = this.addModule('dense', new Linear(hidden, intermediate));
  }
}

class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: DenseAddNorm;

  constructor(
    hidden: number,
    intermediate: number,
    private readonly heads: number,
  ) {
    super();
    this.attention = this.addModule('attention', new BertAttention(hidden));
    this.intermediate = this.addModule('intermediate', new BertIntermediate(hidden, intermediate));
    this.output = this.addModule('output', new DenseAddNorm(intermediate, hidden));
  }

  /** Post-LN: a = LN(x + Wo·MHA(x)); LN(a + W2·gelu(W1·a)). */
  forward(x: tf.Tensor, hiddenDropout: number, attnDropout: number, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const { query, key, value } = this.attention.self;
      const context = multiHeadAttention(query.forward(x), key.forward(x), value.forward(x), this.heads, training ? attnDropout : 0);
      const a = this.attention.output.forward(context, x, hiddenDropout, training);
      return this.output.forward(gelu(this.intermediate.dense.forward(a)), a, hiddenDropout, training);
    });
  }
}

class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;
  constructor(layers: BertLayer[]) {
    super();
    this.layer = this.addModule('layer', new ModuleList(layers));
  }
}

/** The `model` child: BertModel (no pooler) with the lm_head the official code attaches to it. */
class BertWithHead extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly lmHead: Linear;
  constructor(vocab: number, positions: number, hidden: number, layers: number, heads: number, intermediate: number, codebookSize: number) {
    super();
    this.embeddings = this.addModule('embeddings', new BertEmbeddings(vocab, positions, hidden));
    this.encoder = this.addModule('encoder', new BertEncoder(Array.from({ length: layers }, () => new BertLayer(hidden, intermediate, heads))));
    this.lmHead = this.addModule('lm_head', new Linear(hidden, codebookSize));
  }
}

export class ImageBert extends MaskGITGenerator {
  readonly model: BertWithHead;

  constructor(config: MaskGITConfigInput, options: MaskGITModelOptions = {}) {
    super({ ...config, modelType: checkModelType(config, 'ViT', 'ImageBert') });
    const c = this.config;
    this.model = this.addModule(
      'model',
      new BertWithHead(this.vocabulary.size, this.sequenceLength + 1, c.hiddenSize, c.numLayers, c.numHeads, c.intermediateSize, c.codebookSize),
    );
    if ((options.init ?? 'official') === 'official') initLikeOfficial(this, MaskGITGenerator.initRng(options));
  }

  forwardSequence(inputIds: tf.Tensor, training = false): tf.Tensor {
    this.checkSequence(inputIds);
    const { dropout: hiddenDropout, attnDrop } = this.config;
    return tf.tidy(() => {
      let x = dropout(this.model.embeddings.forward(inputIds), hiddenDropout, training);
      for (const layer of this.model.encoder.layer) x = layer.forward(x, hiddenDropout, attnDrop, training);
      const [b, n, h] = x.shape;
      // Drop the condition position, then project onto the K image codes.
      return this.model.lmHead.forward(tf.slice(x, [0, 1, 0], [b, n - 1, h]));
    });
  }
}
