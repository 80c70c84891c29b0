/**
 * The MaskGIT-VQGAN (modeling/modules/maskgit_vqgan.py; modeling/titok.py: PretrainedTokenizer), a small
 * 2D VQ tokenizer: encoder → the official VQ (plain squared-L2 nearest code) → decoder. TiTok's proxy codes
 * are its tokens, and TiTok's stage 2 starts from its decoder and codebook. Its checkpoint
 * (`maskgit-vqgan-imagenet-f16-256.bin` in fun-research/TiTok) holds `encoder.*`, `decoder.*` and
 * `quantize.embedding.weight`; `parts` builds one half only (e.g. the decoder, to render codes).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertBatchShape,
  assertDtype,
  assertTensor,
  assertTokens,
  ConfigError,
  createQuantizer,
  formatShape,
  loadModel,
  Module,
  type ModelSource,
  type OpenModelOptions,
  type QuantizeResult,
  type Quantizer,
  type SavedModelFiles,
  saveModel,
  SeededRandom,
  ShapeError,
  type TokenizerForward,
  type TokenSpace,
  torchStateDictEntries,
  type TrainableTokenizer,
  ValueError,
} from '@vtok/core';
import '@vtok/quantizers';
import { MASKGIT_VQGAN_CODEBOOK_SIZE, MASKGIT_VQGAN_DECODER, type PixelDecoderConfig } from './config';
import { PixelDecoder } from './pixel-decoder';
import { PixelEncoder } from './pixel-encoder';
import { checkImages, inBatches } from './validate';

export interface MaskGitVqganConfig extends PixelDecoderConfig {
  /** Codebook rows (1024 in the released model). */
  numEmbeddings: number;
  /** Input images are resolution × resolution (256 released); the token grid is resolution / 2^(levels−1). */
  resolution: number;
}

/** The released model's config (hard-coded in modeling/titok.py). */
export const MASKGIT_VQGAN: Readonly<MaskGitVqganConfig> = { ...MASKGIT_VQGAN_DECODER, numEmbeddings: MASKGIT_VQGAN_CODEBOOK_SIZE, resolution: 256 };

export type MaskGitVqganPart = 'encoder' | 'decoder';

export interface MaskGitVqganOptions {
  seed?: number;
  /**
   * Images run through encoder or decoder together at most. Default: as many as fit 256² pixels — 1 at the
   * released 256×256 (its activations are large), 64 at 32×32, where batching made the CLI's digits encode and
   * decode about 5× faster.
   */
  maxBatch?: number;
  /** Which halves to build (default both): the decoder alone renders codes, the encoder alone makes them. */
  parts?: readonly MaskGitVqganPart[];
}

/** The official VQ's commitment cost (VectorQuantizer(1024, 256, 0.25)). */
const COMMITMENT_COST = 0.25;

export class MaskGitVqgan extends Module implements TrainableTokenizer {
  readonly specificationVersion = 'v1' as const;
  readonly encoder?: PixelEncoder;
  readonly decoder?: PixelDecoder;
  /** The registry's official VQ (no l2 normalisation), state dict `quantize.embedding.weight`. */
  readonly quantize: Quantizer & Module;
  readonly parts: readonly MaskGitVqganPart[];
  /** Tokens [grid·grid], row-major over the latent grid. */
  readonly tokens: TokenSpace;
  readonly inputShape: readonly number[];
  /** Side of the latent grid: resolution / 2^(levels−1). */
  readonly grid: number;
  private readonly maxBatch: number;

  constructor(
    readonly config: MaskGitVqganConfig = MASKGIT_VQGAN,
    options: MaskGitVqganOptions = {},
  ) {
    super();
    const c = checkVqganConfig(config, 'MaskGitVqgan');
    const parts = options.parts ?? ['encoder', 'decoder'];
    if (parts.length === 0 || parts.some((p) => p !== 'encoder' && p !== 'decoder')) {
      throw new ConfigError(`MaskGitVqgan: parts must list 'encoder' and/or 'decoder', got [${parts.join(', ')}]`);
    }
    this.maxBatch = options.maxBatch ?? Math.max(1, Math.floor(2 ** 16 / c.resolution ** 2));
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new ConfigError(`MaskGitVqgan: maxBatch must be a positive integer, got ${options.maxBatch}`);
    this.parts = [...new Set(parts)];
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    if (this.parts.includes('encoder')) this.encoder = this.addModule('encoder', new PixelEncoder(c, rng));
    if (this.parts.includes('decoder')) this.decoder = this.addModule('decoder', new PixelDecoder(c, rng));
    const vq = createQuantizer({
      type: 'vq',
      dim: c.zChannels,
      codebookSize: c.numEmbeddings,
      useL2Norm: false,
      commitmentCost: COMMITMENT_COST,
      trackUsage: false,
      seed: rng.nextUint32(),
    });
    this.quantize = this.addModule('quantize', vq as Quantizer & Module);
    this.grid = c.resolution / 2 ** (c.channelMult.length - 1);
    this.tokens = { vocabSize: c.numEmbeddings, shape: [this.grid * this.grid] };
    this.inputShape = [c.resolution, c.resolution, 3];
  }

  private require<P extends MaskGitVqganPart>(part: P, op: string): NonNullable<MaskGitVqgan[P]> {
    const m = this[part];
    if (!m) throw new ConfigError(`${op}: this MaskGIT-VQGAN was built without its ${part} (parts: ${this.parts.join(', ')}); build or load it with parts: ['${part}']`);
    return m as NonNullable<MaskGitVqgan[P]>;
  }

  /** images [B, R, R, 3] float32 in [0, 1] → int32 tokens [B, grid·grid] (row-major), nearest codes by squared L2. */
  async encode(images: tf.Tensor): Promise<tf.Tensor> {
    const op = 'MaskGitVqgan.encode';
    const encoder = this.require('encoder', op);
    await checkImages(images, this.config.resolution, op);
    const batch = images.shape[0];
    if (batch === 0) return tf.zeros([0, this.grid * this.grid], 'int32');
    const ids = await inBatches(images, this.maxBatch, (chunk) => {
      const z = encoder.forward(chunk);
      const { quantized, indices, losses } = this.quantize.quantize(z, { training: false });
      tf.dispose([z, quantized, ...Object.values(losses)]);
      return indices;
    });
    const flat = tf.reshape(ids, [batch, this.grid * this.grid]);
    ids.dispose();
    return flat;
  }

  /** int32 tokens [B, grid·grid] (row-major) or [B, grid, grid] → images [B, R, R, 3] clamped to [0, 1]. */
  async decode(tokens: tf.Tensor): Promise<tf.Tensor> {
    const op = 'MaskGitVqgan.decode';
    this.require('decoder', op);
    const g = this.grid;
    const batch = await assertTokens(tokens, this.tokens, op, { alternatives: [[g, g]], allowEmpty: true });
    const z = tf.tidy(() => tf.reshape(this.quantize.lookup(tokens), [batch, g, g, this.config.zChannels]));
    try {
      return await this.decodeLatents(z);
    } finally {
      z.dispose();
    }
  }

  /** Decoder input [B, h, w, zChannels] → images, clamped to [0, 1] unless `clamp: false`. */
  async decodeLatents(z: tf.Tensor, options: { clamp?: boolean } = {}): Promise<tf.Tensor> {
    const decoder = this.require('decoder', 'MaskGitVqgan.decodeLatents');
    if (z.rank !== 4 || z.shape[3] !== this.config.zChannels) {
      throw new ShapeError(`MaskGitVqgan.decodeLatents: expected [B, h, w, ${this.config.zChannels}], got ${formatShape(z.shape)}`);
    }
    if (z.dtype !== 'float32') throw new ValueError(`MaskGitVqgan.decodeLatents: expected float32, got ${z.dtype}`);
    if (z.shape[0] === 0) return tf.zeros([0, z.shape[1]! * decoder.scale, z.shape[2]! * decoder.scale, 3]);
    const clamp = options.clamp ?? true;
    return inBatches(z, this.maxBatch, (chunk) => {
      const out = decoder.forward(chunk);
      if (!clamp) return out;
      const clamped = tf.clipByValue(out, 0, 1);
      out.dispose();
      return clamped;
    });
  }

  /**
   * One differentiable pass for training (the official MaskGitVQGAN.forward): encoder → VQ
   * (straight-through; its commitment and codebook losses) → decoder. Synchronous, only shapes checked.
   * `reconstruction` [B, R, R, 3] unclamped, `indices` [B, grid·grid].
   */
  forward(images: tf.Tensor, options: { training?: boolean } = {}): TokenizerForward {
    const op = 'MaskGitVqgan.forward';
    const encoder = this.require('encoder', op);
    const decoder = this.require('decoder', op);
    assertTensor(images, op, 'images');
    assertDtype(images, 'float32', op, 'images', { note: 'in [0, 1]' });
    const batch = assertBatchShape(images, this.inputShape, op, 'images');
    const z = encoder.forward(images);
    let q: QuantizeResult;
    try {
      q = this.quantize.quantize(z, { training: options.training ?? false });
    } finally {
      z.dispose();
    }
    const { quantized, indices, losses } = q;
    try {
      const reconstruction = decoder.forward(quantized);
      const flat = tf.reshape(indices, [batch, this.grid * this.grid]);
      return { reconstruction, indices: flat, losses };
    } catch (error) {
      tf.dispose(Object.values(losses));
      throw error;
    } finally {
      tf.dispose([quantized, indices]);
    }
  }
}

function checkVqganConfig(value: unknown, where: string): MaskGitVqganConfig {
  const c = value as Partial<MaskGitVqganConfig> | null;
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const problems: string[] = [];
  if (!c || typeof c !== 'object') throw new ConfigError(`${where}: expected a MaskGIT-VQGAN config object, got ${JSON.stringify(value)}`);
  for (const key of ['numEmbeddings', 'hiddenChannels', 'numResBlocks', 'zChannels', 'resolution'] as const) if (!positive(c[key])) problems.push(`${key} must be a positive integer, got ${JSON.stringify(c[key])}`);
  if (!Array.isArray(c.channelMult) || !c.channelMult.length || !c.channelMult.every(positive)) problems.push(`channelMult must be a non-empty list of positive integers, got ${JSON.stringify(c.channelMult)}`);
  else {
    const f = 2 ** (c.channelMult.length - 1);
    if (positive(c.resolution) && (c.resolution as number) % f !== 0) problems.push(`resolution ${c.resolution} must be a multiple of 2^(levels − 1) = ${f}`);
    if (positive(c.hiddenChannels) && [1, ...c.channelMult].some((m) => (m * (c.hiddenChannels as number)) % 32 !== 0)) {
      problems.push(`hiddenChannels × every channelMult must be a multiple of 32 (GroupNorm with 32 groups), got hiddenChannels ${c.hiddenChannels}`);
    }
  }
  if (problems.length) throw new ConfigError(`${where}: ${problems.join('; ')}`);
  return c as MaskGitVqganConfig;
}

export interface CreateMaskGitVqganOptions {
  seed?: number;
  /** The official code keeps PyTorch's default initialisation for this model, so 'official' and 'none' give the same. */
  init?: 'official' | 'none';
  /** Images through encoder or decoder together at most (default 1). */
  maxBatch?: number;
  /** Build one half only (default both). */
  parts?: readonly MaskGitVqganPart[];
}

/** A MaskGIT-VQGAN with random weights (PyTorch's default init, as the official code), e.g. `{ ...MASKGIT_VQGAN, resolution: 32, ... }`. */
export function createMaskGitVqgan(config: MaskGitVqganConfig = MASKGIT_VQGAN, options: CreateMaskGitVqganOptions = {}): MaskGitVqgan {
  return new MaskGitVqgan(checkVqganConfig(config, 'createMaskGitVqgan'), { seed: options.seed, maxBatch: options.maxBatch, parts: options.parts });
}

export interface LoadMaskGitVqganOptions extends OpenModelOptions {
  /** The config; else the source's `config.json`; else the released model's. */
  config?: MaskGitVqganConfig;
  maxBatch?: number;
  /** Build and load one half only (default both); the other half's keys are skipped. */
  parts?: readonly MaskGitVqganPart[];
}

/**
 * Loads a MaskGIT-VQGAN with the official key names, from any source core's I/O layer reads: the
 * released PyTorch checkpoint (`maskgit-vqgan-imagenet-f16-256.bin`, read by the safe reader), a
 * safetensors conversion, or a folder `saveMaskGitVqgan` wrote. With `parts: ['decoder']` the file's
 * `encoder.*` keys are skipped (and `decoder.*` with `parts: ['encoder']`).
 */
export async function loadMaskGitVqgan(source: ModelSource, options: LoadMaskGitVqganOptions = {}): Promise<MaskGitVqgan> {
  return loadModel(source, options, {
    name: 'MaskGIT-VQGAN',
    build(opened) {
      const config = checkVqganConfig(options.config ?? opened.config ?? MASKGIT_VQGAN, options.config ? 'options.config' : (opened.configWhere ?? 'MASKGIT_VQGAN'));
      return new MaskGitVqgan(config, { seed: 0, maxBatch: options.maxBatch, parts: options.parts });
    },
    keys: (model) => ({
      keyOf: (name) => {
        const part = name.split('.')[0];
        return (part === 'encoder' || part === 'decoder') && !model.parts.includes(part) ? null : name;
      },
    }),
  });
}

/** Saves the model (official names and layouts; its config as `config.json`) atomically, or returns the files. */
export async function saveMaskGitVqgan(model: MaskGitVqgan): Promise<SavedModelFiles>;
export async function saveMaskGitVqgan(model: MaskGitVqgan, target: string | URL): Promise<void>;
export async function saveMaskGitVqgan(model: MaskGitVqgan, target?: string | URL): Promise<SavedModelFiles | void> {
  return saveModel(target, { config: model.config, tensors: torchStateDictEntries(model) });
}
