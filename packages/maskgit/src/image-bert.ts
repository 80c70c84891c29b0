/**
 * ImageBert, the generator of TiTok-L-32 and B-64: a Hugging Face `BertModel` without pooler plus an
 * `lm_head`, with the official state-dict names (`model.embeddings.word_embeddings.weight`,
 * `model.encoder.layer.{i}.attention.self.query.weight`, ..., `model.lm_head.weight`). BERT is post-LN
 * with LayerNorm eps 1e-12 and exact GELU; row 0 of the token-type table is added to every position.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, Module, ModuleList, ResidualAttentionBlock } from '@vtok/core';
import type { MaskGITConfigInput } from './config';
import { MaskGITGenerator, type MaskGITModelOptions, checkModelType } from './generator';
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

/**
 * HF BertLayer: core's transformer block, post-LN, with BertLayer's names (`attention.self.{query,key,value}`,
 * `attention.output.{dense,LayerNorm}`, `intermediate.dense`, `output.{dense,LayerNorm}`), exact GELU, hidden
 * dropout after both dense outputs and dropout on the attention probabilities in training.
 */
function bertLayer(hidden: number, intermediate: number, heads: number, hiddenDropout: number, attnDropout: number): ResidualAttentionBlock {
  return new ResidualAttentionBlock(hidden, heads, {
    naming: 'hf-bert',
    norm: 'post',
    eps: BERT_LAYER_NORM_EPS,
    mlpHidden: intermediate,
    dropout: hiddenDropout,
    attentionDropout: attnDropout,
  });
}

class BertEncoder extends Module {
  readonly layer: ModuleList<ResidualAttentionBlock>;
  constructor(layers: ResidualAttentionBlock[]) {
    super();
    this.layer = this.addModule('layer', new ModuleList(layers));
  }
}

/** The `model` child: BertModel (no pooler) with the lm_head the official code attaches to it. */
class BertWithHead extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly lmHead: Linear;
  constructor(
    vocab: number,
    positions: number,
    hidden: number,
    layers: number,
    heads: number,
    intermediate: number,
    codebookSize: number,
    dropouts: { hidden: number; attention: number },
  ) {
    super();
    this.embeddings = this.addModule('embeddings', new BertEmbeddings(vocab, positions, hidden));
    const layer = () => bertLayer(hidden, intermediate, heads, dropouts.hidden, dropouts.attention);
    this.encoder = this.addModule('encoder', new BertEncoder(Array.from({ length: layers }, layer)));
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
      new BertWithHead(this.vocabulary.size, this.sequenceLength + 1, c.hiddenSize, c.numLayers, c.numHeads, c.intermediateSize, c.codebookSize, {
        hidden: c.dropout,
        attention: c.attnDrop,
      }),
    );
    if ((options.init ?? 'official') === 'official') initLikeOfficial(this, MaskGITGenerator.initRng(options));
  }

  forwardSequence(inputIds: tf.Tensor, training = false): tf.Tensor {
    this.checkSequence(inputIds);
    return tf.tidy(() => {
      let x = dropout(this.model.embeddings.forward(inputIds), this.config.dropout, training);
      for (const layer of this.model.encoder.layer) x = layer.forward(x, { training });
      const [b, n, h] = x.shape;
      // Drop the condition position, then project onto the K image codes.
      return this.model.lmHead.forward(tf.slice(x, [0, 1, 0], [b, n - 1, h]));
    });
  }
}
