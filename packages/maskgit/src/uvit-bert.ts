/**
 * UViTBert, the generator of TiTok-S-128: a U-ViT (pre-LN blocks, long skip connections from each
 * in-block to its mirrored out-block, qkv without bias) over the same vocabulary and sequence as
 * ImageBert. State-dict names as the official module: `embeddings.weight`, `pos_embed`,
 * `in_blocks.{i}.*`, `mid_block.*`, `out_blocks.{i}.*` (with `skip_linear`), `norm.*`, `lm_head.*`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Embedding, LayerNorm, Linear, ModuleList, ResidualAttentionBlock } from '@vtok/core';
import type { MaskGITConfigInput } from './config';
import { MaskGITGenerator, type MaskGITModelOptions, checkModelType } from './generator';
import { initLikeOfficial, initNormal } from './init';

/** nn.LayerNorm's default eps, which the official UViT keeps. */
export const UVIT_LAYER_NORM_EPS = 1e-5;

/**
 * The U-ViT block: core's pre-LN transformer block with timm's names (`norm1`, `attn.qkv` without bias,
 * `attn.proj`, `norm2`, `mlp.fc1`, `mlp.fc2`); qkv splits as einops 'B L (K H D) -> K B H L D' (thirds q,
 * k, v, heads contiguous inside each). Out-blocks add `skip_linear` for the long skip connection.
 */
class UViTBlock extends ResidualAttentionBlock {
  readonly skipLinear?: Linear;

  constructor(dim: number, heads: number, mlpRatio: number, skip: boolean) {
    // int(dim * mlp_ratio), the same double arithmetic as Python.
    super(dim, heads, { naming: 'timm', qkvBias: false, eps: UVIT_LAYER_NORM_EPS, mlpHidden: Math.trunc(dim * mlpRatio) });
    if (skip) this.skipLinear = this.addModule('skip_linear', new Linear(2 * dim, dim));
  }

  /** Optional x = skip_linear([x, skip]); then the block. */
  forwardWithSkip(x: tf.Tensor, skip?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.forward(this.skipLinear && skip ? this.skipLinear.forward(tf.concat([x, skip], -1)) : x));
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
      for (const blk of this.outBlocks) x = blk.forwardWithSkip(x, skips.pop());
      x = this.norm.forward(x);
      const [b, n, h] = x.shape;
      return this.lmHead.forward(tf.slice(x, [0, 1, 0], [b, n - 1, h]));
    });
  }
}
