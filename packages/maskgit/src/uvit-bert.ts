/**
 * UViTBert, the generator of TiTok-S-128: a U-ViT (pre-LN blocks, long skip connections from each
 * in-block to its mirrored out-block, qkv without bias) over the same vocabulary and sequence as
 * ImageBert. State-dict names as the official module: `embeddings.weight`, `pos_embed`,
 * `in_blocks.{i}.*`, `mid_block.*`, `out_blocks.{i}.*` (with `skip_linear`), `norm.*`, `lm_head.*`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, Module, ModuleList, gelu } from '@vtok/core';
import type { MaskGITConfigInput } from './config';
import { MaskGITGenerator, type MaskGITModelOptions, checkModelType } from './generator';
import { multiHeadAttention } from './attention';
import { initLikeOfficial, initNormal } from './init';

/** nn.LayerNorm's default eps, which the official UViT keeps. */
export const UVIT_LAYER_NORM_EPS = 1e-5;

class UViTAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  constructor(
    dim: number,
    private readonly heads: number,
  ) {
    super();
    this.qkv = this.addModule('qkv', new Linear(dim, 3 * dim, { bias: false }));
    this.proj = this.addModule('proj', new Linear(dim, dim));
  }
  /** qkv splits as einops 'B L (K H D) -> K B H L D': thirds q, k, v, heads contiguous inside each. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [q, k, v] = tf.split(this.qkv.forward(x), 3, -1);
      return this.proj.forward(multiHeadAttention(q, k, v, this.heads));
    });
  }
}

class UViTMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.addModule('fc1', new Linear(dim, hidden));
    this.fc2 = this.addModule('fc2', new Linear(hidden, dim));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

class UViTBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: UViTAttention;
  readonly norm2: LayerNorm;
  readonly mlp: UViTMlp;
  readonly skipLinear?: Linear;

  constructor(dim: number, heads: number, mlpRatio: number, skip: boolean) {
    super();
    this.norm1 = this.addModule('norm1', new LayerNorm(dim, { eps: UVIT_LAYER_NORM_EPS }));
    this.attn = this.addModule('attn', new UViTAttention(dim, heads));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim, { eps: UVIT_LAYER_NORM_EPS }));
    // int(dim * mlp_ratio), the same double arithmetic as Python.
    this.mlp = this.addModule('mlp', new UViTMlp(dim, Math.trunc(dim * mlpRatio)));
    if (skip) this.skipLinear = this.addModule('skip_linear', new Linear(2 * dim, dim));
  }

  /** Optional x = skip_linear([x, skip]); then x += attn(norm1(x)); x += mlp(norm2(x)). */
  forward(x: tf.Tensor, skip?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.skipLinear && skip ? this.skipLinear.forward(tf.concat([x, skip], -1)) : x;
      h = tf.add(h, this.attn.forward(this.norm1.forward(h)));
      return tf.add(h, this.mlp.forward(this.norm2.forward(h)));
    });
  }
}

export class UViTBert extends MaskGITGenerator {
  readonly embeddings: Embedding;
  readonly posEmbed: tf.Variable;
  readonly inBlocks: ModuleList<UViTBlock>;
  readonly midBlock: UViTBlock;
  readonly outBlocks: ModuleList<UViTBlock>;
  readonly norm: LayerNorm;
  readonly lmHead: Linear;

  constructor(config: MaskGITConfigInput, options: MaskGITModelOptions = {}) {
    super({ ...config, modelType: checkModelType(config, 'UViT', 'UViTBert') });
    const c = this.config;
    const dim = c.hiddenSize;
    const mlpRatio = c.intermediateSize / dim;
    const half = c.numLayers / 2;
    const block = (skip: boolean) => new UViTBlock(dim, c.numHeads, mlpRatio, skip);
    this.embeddings = this.addModule('embeddings', new Embedding(this.vocabulary.size, dim));
    this.posEmbed = this.addParameter('pos_embed', tf.zeros([1, this.sequenceLength + 1, dim]));
    this.inBlocks = this.addModule('in_blocks', new ModuleList(Array.from({ length: half }, () => block(false))));
    this.midBlock = this.addModule('mid_block', block(false));
    this.outBlocks = this.addModule('out_blocks', new ModuleList(Array.from({ length: half }, () => block(true))));
    this.norm = this.addModule('norm', new LayerNorm(dim, { eps: UVIT_LAYER_NORM_EPS }));
    this.lmHead = this.addModule('lm_head', new Linear(dim, c.codebookSize));
    if ((options.init ?? 'official') === 'official') {
      const rng = MaskGITGenerator.initRng(options);
      initNormal(this.posEmbed, rng);
      initLikeOfficial(this, rng);
    }
  }

  /** The official UViT has no dropout (its blocks are built with drop = attn_drop = 0), so `training` changes nothing. */
  forwardSequence(inputIds: tf.Tensor, _training = false): tf.Tensor {
    this.checkSequence(inputIds);
    return tf.tidy(() => {
      let x = tf.add(this.embeddings.forward(inputIds), this.posEmbed);
      // In-block outputs pop LIFO: the first out-block takes the last in-block's output.
      const skips: tf.Tensor[] = [];
      for (const blk of this.inBlocks) {
        x = blk.forward(x);
        skips.push(x);
      }
      x = this.midBlock.forward(x);
      for (const blk of this.outBlocks) x = blk.forward(x, skips.pop());
      x = this.norm.forward(x);
      const [b, n, h] = x.shape;
      return this.lmHead.forward(tf.slice(x, [0, 1, 0], [b, n - 1, h]));
    });
  }
}
