/**
 * TiTok's ViT encoder and decoder (modeling/modules/blocks.py: TiTokEncoder, TiTokDecoder), batch-first
 * and channels-last. State-dict names are the official ones, so checkpoints load by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, depthToSpace2d, LayerNorm, Linear, Module, ModuleList, normalInit, ResidualAttentionBlock, SeededRandom } from '@vtok/core';
import type { VitSize } from './config';
import { pipeConsuming, type Step } from './sequence';

const LN_EPS = 1e-5;
const MLP_RATIO = 4;

function blocks(size: VitSize, rng: SeededRandom): ModuleList<ResidualAttentionBlock> {
  const list = new ModuleList<ResidualAttentionBlock>();
  for (let i = 0; i < size.numLayers; i++) list.push(new ResidualAttentionBlock(size.width, size.numHeads, { mlpRatio: MLP_RATIO, eps: LN_EPS, rng }));
  return list;
}

/** Free parameters (class/mask/latent tokens, positional tables) start as width^−½·N(0,1), as upstream. */
function tokenInit(rng: SeededRandom, shape: number[], width: number): tf.Tensor {
  return normalInit(rng, shape, 0, width ** -0.5);
}

/** Shared by encoder and decoder: ln_pre, the blocks (one tidy each), and the blocks as pipeline steps. */
abstract class VitTrunk extends Module {
  abstract readonly lnPre: LayerNorm;
  abstract readonly transformer: ModuleList<ResidualAttentionBlock>;

  protected trunkSteps(): Step[] {
    return [(t) => this.lnPre.forward(t), ...[...this.transformer].map((b) => (t: tf.Tensor) => b.forward(t))];
  }
}

export interface TiTokEncoderOptions {
  size: VitSize;
  imageSize: number;
  patchSize: number;
  numLatentTokens: number;
  /** Output channels: token_size, doubled by the caller for the VAE (mean and log-variance). */
  outChannels: number;
  isLegacy: boolean;
  rng: SeededRandom;
}

/**
 * Image → [B, numLatentTokens, outChannels]: patchify (conv k = s = patch), sequence
 * [class, patches row-major, latent tokens] with positional tables, ln_pre, blocks, ln_post on the latent
 * positions, and conv_out (a per-token linear map).
 */
export class TiTokEncoder extends VitTrunk {
  readonly patchEmbed: Conv2d;
  readonly classEmbedding: tf.Variable;
  readonly positionalEmbedding: tf.Variable;
  readonly latentTokenPositionalEmbedding: tf.Variable;
  readonly lnPre: LayerNorm;
  readonly transformer: ModuleList<ResidualAttentionBlock>;
  readonly lnPost: LayerNorm;
  readonly convOut: Conv2d;
  readonly grid: number;

  constructor(readonly options: TiTokEncoderOptions) {
    super();
    const { size, patchSize, numLatentTokens, rng } = options;
    const width = size.width;
    this.grid = Math.floor(options.imageSize / patchSize);
    this.patchEmbed = this.addModule('patch_embed', new Conv2d(3, width, patchSize, { stride: patchSize, rng }));
    this.classEmbedding = this.addParameter('class_embedding', tokenInit(rng, [1, width], width));
    this.positionalEmbedding = this.addParameter('positional_embedding', tokenInit(rng, [this.grid ** 2 + 1, width], width));
    this.latentTokenPositionalEmbedding = this.addParameter('latent_token_positional_embedding', tokenInit(rng, [numLatentTokens, width], width));
    this.lnPre = this.addModule('ln_pre', new LayerNorm(width, { eps: LN_EPS }));
    this.transformer = this.addModule('transformer', blocks(size, rng));
    this.lnPost = this.addModule('ln_post', new LayerNorm(width, { eps: LN_EPS }));
    this.convOut = this.addModule('conv_out', new Conv2d(width, options.outChannels, 1, { rng }));
  }

  /** images [B, H, W, 3] in [0, 1], latentTokens [L, width] (owned by TiTok) → [B, L, outChannels]. */
  forward(images: tf.Tensor, latentTokens: tf.Tensor): tf.Tensor {
    const { width } = this.options.size;
    const L = this.options.numLatentTokens;
    const batch = images.shape[0];
    const sequence = tf.tidy(() => {
      const patches = tf.reshape(this.patchEmbed.forward(images), [batch, this.grid ** 2, width]);
      const cls = tf.broadcastTo(tf.reshape(this.classEmbedding, [1, 1, width]), [batch, 1, width]);
      const withPositions = tf.add(tf.concat([cls, patches], 1), this.positionalEmbedding);
      const latents = tf.broadcastTo(tf.expandDims(tf.add(latentTokens, this.latentTokenPositionalEmbedding), 0), [batch, L, width]);
      return tf.concat([withPositions, latents], 1);
    });
    return pipeConsuming(
      sequence,
      ...this.trunkSteps(),
      (t) => this.lnPost.forward(tf.slice(t, [0, 1 + this.grid ** 2, 0], [-1, L, -1])),
      (t) => this.project(t),
    );
  }

  /**
   * conv_out, a 1×1 conv over a [B, D, L, 1] view. The legacy models build that view by REINTERPRETING
   * the row-major [B, L, D] values as [B, D, L] (a reshape, not a transpose): feature f of token l is
   * value number f·L + l. This is what the released weights were trained with, so it is kept.
   */
  private project(y: tf.Tensor): tf.Tensor {
    const [batch, L, D] = y.shape;
    const tokens = this.options.isLegacy ? tf.transpose(tf.reshape(y, [batch, D, L]), [0, 2, 1]) : y;
    const out = this.options.outChannels;
    const w = tf.reshape(this.convOut.weight, [D, out]);
    return tf.reshape(tf.add(tf.matMul(tf.reshape(tokens, [batch * L, D]), w), this.convOut.bias!), [batch, L, out]);
  }
}

/** The legacy head's `ffn`: Conv 1×1 D→2D, tanh, Conv 1×1 2D→proxy codes (Sequential indices 0 and 2). */
export class ProxyCodeHead extends Module {
  readonly expand: Conv2d;
  readonly logits: Conv2d;
  constructor(width: number, codes: number, rng: SeededRandom) {
    super();
    this.expand = this.addModule('0', new Conv2d(width, 2 * width, 1, { rng }));
    this.logits = this.addModule('2', new Conv2d(2 * width, codes, 1, { rng }));
  }
  steps(): Step[] {
    return [(t) => tf.tanh(this.expand.forward(t)), (t) => this.logits.forward(t)];
  }
}

/** The single-stage head's `ffn`: Conv 1×1 D→p·p·3 (index 0), then pixel shuffle to the image. */
export class PixelHead extends Module {
  readonly toPatches: Conv2d;
  constructor(width: number, readonly patchSize: number, rng: SeededRandom) {
    super();
    this.toPatches = this.addModule('0', new Conv2d(width, patchSize * patchSize * 3, 1, { rng }));
  }
  steps(): Step[] {
    // einops 'b (p1 p2 c) h w -> b c (h p1) (w p2)': channel (p1·p + p2)·3 + c goes to pixel
    // (h·p + p1, w·p + p2), colour c, which is exactly tf.depthToSpace's NHWC order ('tf'); core's op
    // is the differentiable one (tf.depthToSpace has no gradient).
    return [(t) => this.toPatches.forward(t), (t) => depthToSpace2d(t, this.patchSize, { order: 'tf' })];
  }
}

export interface TiTokDecoderOptions {
  size: VitSize;
  imageSize: number;
  patchSize: number;
  numLatentTokens: number;
  tokenSize: number;
  isLegacy: boolean;
  /** Proxy codes the legacy head predicts (1024 upstream). */
  proxyCodes: number;
  rng: SeededRandom;
}

/**
 * Quantised latents [B, L, tokenSize] → the head's output, channels-last: legacy, proxy-code logits
 * [B, g, g, proxyCodes]; otherwise RGB [B, g·p, g·p, 3] (unclamped). Sequence [class, g² mask tokens,
 * L latents]; the head reads the mask positions.
 */
export class TiTokDecoder extends VitTrunk {
  readonly decoderEmbed: Linear;
  readonly classEmbedding: tf.Variable;
  readonly positionalEmbedding: tf.Variable;
  readonly maskToken: tf.Variable;
  readonly latentTokenPositionalEmbedding: tf.Variable;
  readonly lnPre: LayerNorm;
  readonly transformer: ModuleList<ResidualAttentionBlock>;
  readonly lnPost: LayerNorm;
  readonly ffn: ProxyCodeHead | PixelHead;
  /** The single-stage head's final 3×3 conv (Identity in legacy models, so absent). */
  readonly convOut?: Conv2d;
  readonly grid: number;

  constructor(readonly options: TiTokDecoderOptions) {
    super();
    const { size, patchSize, numLatentTokens, rng } = options;
    const width = size.width;
    this.grid = Math.floor(options.imageSize / patchSize);
    this.decoderEmbed = this.addModule('decoder_embed', new Linear(options.tokenSize, width, { rng }));
    this.classEmbedding = this.addParameter('class_embedding', tokenInit(rng, [1, width], width));
    this.positionalEmbedding = this.addParameter('positional_embedding', tokenInit(rng, [this.grid ** 2 + 1, width], width));
    this.maskToken = this.addParameter('mask_token', tokenInit(rng, [1, 1, width], width));
    this.latentTokenPositionalEmbedding = this.addParameter('latent_token_positional_embedding', tokenInit(rng, [numLatentTokens, width], width));
    this.lnPre = this.addModule('ln_pre', new LayerNorm(width, { eps: LN_EPS }));
    this.transformer = this.addModule('transformer', blocks(size, rng));
    this.lnPost = this.addModule('ln_post', new LayerNorm(width, { eps: LN_EPS }));
    if (options.isLegacy) this.ffn = this.addModule('ffn', new ProxyCodeHead(width, options.proxyCodes, rng));
    else {
      this.ffn = this.addModule('ffn', new PixelHead(width, patchSize, rng));
      this.convOut = this.addModule('conv_out', new Conv2d(3, 3, 3, { padding: 1, rng }));
    }
  }

  forward(latents: tf.Tensor): tf.Tensor {
    const { width } = this.options.size;
    const [batch, L] = latents.shape;
    const n = this.grid ** 2;
    const sequence = tf.tidy(() => {
      const tokens = tf.add(this.decoderEmbed.forward(latents), tf.slice(this.latentTokenPositionalEmbedding, [0, 0], [L, width]));
      const masks = tf.broadcastTo(this.maskToken, [batch, n, width]);
      const cls = tf.broadcastTo(tf.reshape(this.classEmbedding, [1, 1, width]), [batch, 1, width]);
      const withPositions = tf.add(tf.concat([cls, masks], 1), this.positionalEmbedding);
      return tf.concat([withPositions, tokens], 1);
    });
    const convOut = this.convOut;
    return pipeConsuming(
      sequence,
      ...this.trunkSteps(),
      (t) => tf.reshape(this.lnPost.forward(tf.slice(t, [0, 1, 0], [-1, n, -1])), [batch, this.grid, this.grid, width]),
      ...this.ffn.steps(),
      ...(convOut ? [(t: tf.Tensor) => convOut.forward(t)] : []),
    );
  }
}
