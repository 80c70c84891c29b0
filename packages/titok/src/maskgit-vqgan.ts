/**
 * The MaskGIT-VQGAN decoder on its own (modeling/titok.py: PretrainedTokenizer.decode): code ids →
 * codebook rows → pixel decoder → clamp to [0, 1]. Its checkpoint (`maskgit-vqgan-imagenet-f16-256.bin`
 * in fun-research/TiTok, converted to safetensors) holds `encoder.*`, `decoder.*` and
 * `quantize.embedding.weight`; the encoder is only used to make TiTok's stage-1 training targets and is
 * not part of this module, so its keys are skipped on load.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  loadModel,
  Module,
  type ModelSource,
  type OpenModelOptions,
  type SavedModelFiles,
  saveModel,
  SeededRandom,
  ShapeError,
  torchStateDictEntries,
  ValueError,
} from '@vtok/core';
import { MASKGIT_VQGAN_CODEBOOK_SIZE, MASKGIT_VQGAN_DECODER, type PixelDecoderConfig } from './config';
import { PixelCodebook } from './pixel-codebook';
import { PixelDecoder } from './pixel-decoder';
import { checkTokens, formatShape, inBatches } from './validate';

export interface MaskGitVqganConfig extends PixelDecoderConfig {
  /** Codebook rows (1024 in the released model). */
  numEmbeddings: number;
}

export const MASKGIT_VQGAN: Readonly<MaskGitVqganConfig> = { ...MASKGIT_VQGAN_DECODER, numEmbeddings: MASKGIT_VQGAN_CODEBOOK_SIZE };

export class MaskGitVqganDecoder extends Module {
  readonly decoder: PixelDecoder;
  readonly quantize: PixelCodebook;

  constructor(
    readonly config: MaskGitVqganConfig = MASKGIT_VQGAN,
    options: { seed?: number; maxBatch?: number } = {},
  ) {
    super();
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.decoder = this.addModule('decoder', new PixelDecoder(config, rng));
    this.quantize = this.addModule('quantize', new PixelCodebook(config.numEmbeddings, config.zChannels, rng));
    this.maxBatch = options.maxBatch ?? 1;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new ConfigError(`MaskGitVqganDecoder: maxBatch must be a positive integer, got ${options.maxBatch}`);
  }
  private readonly maxBatch: number;

  /**
   * Code ids, int32 [B, g·g] (row-major grid) or [B, g, g] → images [B, g·s, g·s, 3] in [0, 1]
   * (s = 2^(levels−1), 16 for the released decoder).
   */
  async decodeCodes(codes: tf.Tensor): Promise<tf.Tensor> {
    if (codes.rank !== 2 && codes.rank !== 3) throw new ShapeError(`MaskGitVqganDecoder.decodeCodes: expected codes [B, g·g] or [B, g, g], got ${formatShape(codes.shape)}`);
    const shape = codes.shape as number[];
    const g = codes.rank === 3 ? shape[1] : Math.round(Math.sqrt(shape[1]));
    if ((codes.rank === 3 && shape[2] !== g) || (codes.rank === 2 && g * g !== shape[1])) {
      throw new ShapeError(`MaskGitVqganDecoder.decodeCodes: codes must cover a square grid, got ${formatShape(codes.shape)}`);
    }
    const flat = codes.rank === 3 ? tf.reshape(codes, [shape[0], g * g]) : codes;
    try {
      const ids = await checkTokens(flat, g * g, this.config.numEmbeddings, 'MaskGitVqganDecoder.decodeCodes');
      const z = tf.tidy(() => tf.reshape(this.quantize.lookup(ids), [shape[0], g, g, this.config.zChannels]));
      try {
        return await this.decodeLatents(z);
      } finally {
        z.dispose();
      }
    } finally {
      if (flat !== codes) flat.dispose();
    }
  }

  /** Decoder input [B, h, w, zChannels] → images clamped to [0, 1]. */
  async decodeLatents(z: tf.Tensor, options: { clamp?: boolean } = {}): Promise<tf.Tensor> {
    if (z.rank !== 4 || z.shape[3] !== this.config.zChannels) {
      throw new ShapeError(`MaskGitVqganDecoder.decodeLatents: expected [B, h, w, ${this.config.zChannels}], got ${formatShape(z.shape)}`);
    }
    if (z.dtype !== 'float32') throw new ValueError(`MaskGitVqganDecoder.decodeLatents: expected float32, got ${z.dtype}`);
    const clamp = options.clamp ?? true;
    return inBatches(z, this.maxBatch, (chunk) => {
      const out = this.decoder.forward(chunk);
      if (!clamp) return out;
      const clamped = tf.clipByValue(out, 0, 1);
      out.dispose();
      return clamped;
    });
  }
}

export interface CreateMaskGitVqganOptions {
  seed?: number;
  /** The official code keeps PyTorch's default initialisation for this decoder, so 'official' and 'none' give the same. */
  init?: 'official' | 'none';
  /** Images decoded together at most (default 1: its activations at 256² are large). */
  maxBatch?: number;
}

/** A MaskGIT-VQGAN decoder with random weights (PyTorch's default init, as the official code). */
export function createMaskGitVqganDecoder(config: MaskGitVqganConfig = MASKGIT_VQGAN, options: CreateMaskGitVqganOptions = {}): MaskGitVqganDecoder {
  return new MaskGitVqganDecoder(checkVqganConfig(config, 'createMaskGitVqganDecoder'), { seed: options.seed, maxBatch: options.maxBatch });
}

function checkVqganConfig(value: unknown, where: string): MaskGitVqganConfig {
  const c = value as Partial<MaskGitVqganConfig> | null;
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const problems: string[] = [];
  if (!c || typeof c !== 'object') throw new ConfigError(`${where}: expected a MaskGIT-VQGAN config object, got ${JSON.stringify(value)}`);
  for (const key of ['numEmbeddings', 'hiddenChannels', 'numResBlocks', 'zChannels'] as const) if (!positive(c[key])) problems.push(`${key} must be a positive integer, got ${JSON.stringify(c[key])}`);
  if (!Array.isArray(c.channelMult) || !c.channelMult.length || !c.channelMult.every(positive)) problems.push(`channelMult must be a non-empty list of positive integers, got ${JSON.stringify(c.channelMult)}`);
  if (problems.length) throw new ConfigError(`${where}: ${problems.join('; ')}`);
  return c as MaskGitVqganConfig;
}

/**
 * Loads the MaskGIT-VQGAN decoder with the official key names, from any source core's I/O layer
 * reads: the released PyTorch checkpoint (`maskgit-vqgan-imagenet-f16-256.bin`, read by the safe
 * reader), a safetensors conversion, or a folder `saveMaskGitVqganDecoder` wrote. The config comes
 * from `options.config`, else the source's `config.json`, else the released model's. `encoder.*` keys
 * (only used to make training targets) are skipped.
 */
export async function loadMaskGitVqganDecoder(
  source: ModelSource,
  options: OpenModelOptions & { config?: MaskGitVqganConfig; maxBatch?: number } = {},
): Promise<MaskGitVqganDecoder> {
  return loadModel(source, options, {
    name: 'MaskGIT-VQGAN decoder',
    build(opened) {
      const config = checkVqganConfig(options.config ?? opened.config ?? MASKGIT_VQGAN, options.config ? 'options.config' : (opened.configWhere ?? 'MASKGIT_VQGAN'));
      return new MaskGitVqganDecoder(config, { seed: 0, maxBatch: options.maxBatch });
    },
    keys: () => ({ keyOf: (name) => (name.startsWith('encoder.') ? null : name) }),
  });
}

/** Saves the decoder (official names and layouts; its config as `config.json`) atomically, or returns the files. */
export async function saveMaskGitVqganDecoder(model: MaskGitVqganDecoder): Promise<SavedModelFiles>;
export async function saveMaskGitVqganDecoder(model: MaskGitVqganDecoder, target: string | URL): Promise<void>;
export async function saveMaskGitVqganDecoder(model: MaskGitVqganDecoder, target?: string | URL): Promise<SavedModelFiles | void> {
  return saveModel(target, { config: model.config, tensors: torchStateDictEntries(model) });
}
