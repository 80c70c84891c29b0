/**
 * The tokenizer's configuration, read from Open-MAGVIT2's own YAML config as JSON (the files under
 * configs/Open-MAGVIT2/ of TencentARC/SEED-Voken), and written back in the same shape.
 *
 * Accepted layouts: LightningCLI (`model.class_path` + `model.init_args`, what the released configs use)
 * and the older taming layout (`model.target` + `model.params`). Needed: `ddconfig`, `embed_dim`,
 * `n_embed`; everything else has the upstream default. The image model vs the video model is told by the
 * class (`…video_lfqgan.VQModel` is video) unless `variant` says so. The input size is the data config's
 * `size` (ddconfig.resolution is unused upstream: the 256_L config says 128 there) and, for video,
 * `sequence_length` (17 by default).
 */
import { ConfigError } from '@vtok/core';
import type { NormMode } from './layers/norm';

export type Magvit2Variant = 'image' | 'video';

/** What the encoder and decoder are built from (ddconfig in camelCase, plus the variant). */
export interface ArchitectureConfig {
  readonly variant: Magvit2Variant;
  readonly ch: number;
  readonly chMult: readonly number[];
  readonly numResBlocks: number;
  readonly zChannels: number;
  readonly inChannels: number;
  readonly outCh: number;
}

/** Open-MAGVIT2's quantizer loss settings (VQModel + VQLPIPSWithDiscriminator arguments). */
export interface LfqLossConfig {
  /** Weight of the per-sample entropy inside the entropy term (1.0 in every release). */
  readonly sampleMinimizationWeight: number;
  /** Weight of the codebook entropy inside the entropy term (1.0 in every release). */
  readonly batchMaximizationWeight: number;
  /** Weight of the entropy term in the training loss (`codebook_weight`, 0.1). */
  readonly codebookWeight: number;
  /** Weight of the commitment loss (`commit_weight`, 0.25). */
  readonly commitWeight: number;
  /** Entropy annealing: the entropy term is × (1 + r·max(0, 1 − step/steps)); r = 0 in every release. */
  readonly codebookEnlargeRatio: number;
  readonly codebookEnlargeSteps: number;
  /** Sub-token split used by the autoregressive stage (`factorized_bits`, [9, 9] by default). */
  readonly factorizedBits: readonly number[];
}

export interface Magvit2Config extends ArchitectureConfig {
  /** Latent width = number of LFQ bits. Equal to zChannels (Open-MAGVIT2 has no projection). */
  readonly embedDim: number;
  /** 2^embedDim. */
  readonly codebookSize: number;
  /** Input [height, width]. */
  readonly imageSize: readonly [number, number];
  /** Video only: frames per clip. */
  readonly frames?: number;
  readonly lfq: LfqLossConfig;
  /** Whether training used EMA weights (`use_ema`); released checkpoints hold them either way. */
  readonly useEma: boolean;
  /** GroupNorm statistics over clips: 'clip' (official) or 'causal'. */
  readonly normalization: NormMode;
}

/** Choices that are not in Open-MAGVIT2's config, or that override it. */
export interface Magvit2ConfigOverrides {
  variant?: Magvit2Variant;
  /** [height, width], or one number for square inputs. */
  imageSize?: number | readonly [number, number];
  frames?: number;
  normalization?: NormMode;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`Open-MAGVIT2 config: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonNegativeInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(`Open-MAGVIT2 config: ${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function finite(value: unknown, fallback: number, name: string): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ConfigError(`Open-MAGVIT2 config: ${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** `model` section's arguments: init_args (LightningCLI) or params (taming). */
function modelArguments(json: Json): { args: Json; className: string } {
  const model = json.model;
  if (!isObject(model)) throw new ConfigError('Open-MAGVIT2 config: no "model" section (expected Open-MAGVIT2\'s YAML config as JSON)');
  const args = model.init_args ?? model.params;
  if (!isObject(args)) throw new ConfigError('Open-MAGVIT2 config: "model" has neither "init_args" nor "params"');
  const className = String(model.class_path ?? model.target ?? '');
  return { args, className };
}

/** The first data split's `config` object that exists (validation, then test, then train). */
function dataSplitConfig(json: Json): Json | undefined {
  const data = json.data;
  if (!isObject(data)) return undefined;
  const args = isObject(data.init_args) ? data.init_args : isObject(data.params) ? data.params : undefined;
  if (!args) return undefined;
  for (const split of ['validation', 'test', 'train']) {
    const s = args[split];
    if (isObject(s) && isObject(s.params) && isObject(s.params.config)) return s.params.config;
  }
  return undefined;
}

function resolveImageSize(value: number | readonly [number, number], name: string): [number, number] {
  const [h, w] = typeof value === 'number' ? [value, value] : value;
  return [positiveInt(h, `${name}[0]`), positiveInt(w, `${name}[1]`)];
}

/** The spatial down-sampling factor: 2^(levels − 1). */
export function spatialFactor(config: ArchitectureConfig): number {
  return 2 ** (config.chMult.length - 1);
}

/** How many encoder levels halve time (video: non-final levels whose multiplier is not 1). */
export function temporalDownsamplings(config: ArchitectureConfig): number {
  if (config.variant !== 'video') return 0;
  return config.chMult.slice(0, -1).filter((m) => m !== 1).length;
}

/**
 * Video: a clip must have 1 + k·frameStep frames (frameStep = 2^temporal down-samplings; 1 for images).
 * Each temporal stride-2 causal conv reads frames 2j − 2 .. 2j for output frame j, so with an even
 * count the last frame never reaches the tokens, and decoding gives back 1 + k·frameStep frames.
 */
export function frameStep(config: ArchitectureConfig): number {
  return 2 ** temporalDownsamplings(config);
}

/** Latent frames for `frames` input frames: each temporal stride-2 causal conv maps T -> floor((T − 1)/2) + 1. */
export function latentFrames(config: ArchitectureConfig, frames: number): number {
  let t = frames;
  for (let i = 0; i < temporalDownsamplings(config); i++) t = Math.floor((t - 1) / 2) + 1;
  return t;
}

/** Frames the decoder makes from `t` latent frames: each temporal up-sampler maps t -> 2t − 1. */
export function decodedFrames(config: ArchitectureConfig, t: number): number {
  let f = t;
  for (let i = 0; i < temporalDownsamplings(config); i++) f = f > 1 ? 2 * f - 1 : 1;
  return f;
}

/** Checks a configuration's internal consistency; throws ConfigError naming the problem. */
export function validateMagvit2Config(c: Magvit2Config): void {
  if (c.ch % 32 !== 0) throw new ConfigError(`Open-MAGVIT2 config: ch must be a multiple of 32 (GroupNorm has 32 groups), got ${c.ch}`);
  if (c.chMult.length < 1) throw new ConfigError('Open-MAGVIT2 config: ch_mult must not be empty');
  c.chMult.forEach((m, i) => positiveInt(m, `ddconfig.ch_mult[${i}]`));
  if (c.embedDim !== c.zChannels) {
    throw new ConfigError(`Open-MAGVIT2 config: embed_dim (${c.embedDim}) must equal ddconfig.z_channels (${c.zChannels}); the LFQ has no projection`);
  }
  if (c.codebookSize !== 2 ** c.embedDim) {
    throw new ConfigError(`Open-MAGVIT2 config: n_embed (${c.codebookSize}) must be 2^embed_dim = ${2 ** c.embedDim} for lookup-free quantisation`);
  }
  if (c.embedDim > 30) throw new ConfigError(`Open-MAGVIT2 config: embed_dim ${c.embedDim} is too large for int32 token ids (at most 30 bits)`);
  const f = spatialFactor(c);
  if (c.imageSize[0] % f !== 0 || c.imageSize[1] % f !== 0) {
    throw new ConfigError(`Open-MAGVIT2 config: image size ${c.imageSize[0]}x${c.imageSize[1]} must be divisible by the down-sampling factor ${f}`);
  }
  if (c.variant === 'video') {
    const frames = c.frames ?? 0;
    positiveInt(frames, 'frames');
    if (decodedFrames(c, latentFrames(c, frames)) !== frames) {
      const step = frameStep(c);
      throw new ConfigError(`Open-MAGVIT2 config: ${frames} frames do not survive encode + decode; use 1 + k·${step} frames (e.g. ${1 + 4 * step})`);
    }
  } else if (c.frames !== undefined) {
    throw new ConfigError('Open-MAGVIT2 config: frames is for the video model only');
  }
  if (c.normalization !== 'clip' && c.normalization !== 'causal') {
    throw new ConfigError(`Open-MAGVIT2 config: normalization must be 'clip' or 'causal', got '${String(c.normalization)}'`);
  }
  const bits = c.lfq.factorizedBits;
  if (bits.length > 0 && bits.reduce((a, b) => a + b, 0) !== c.embedDim) {
    throw new ConfigError(`Open-MAGVIT2 config: factorized_bits [${bits.join(', ')}] must add up to embed_dim ${c.embedDim}`);
  }
}

/** Parses Open-MAGVIT2's YAML config (as a JSON object or text) into a validated Magvit2Config. */
export function parseMagvit2Config(source: unknown, overrides: Magvit2ConfigOverrides = {}): Magvit2Config {
  let json: unknown = source;
  if (typeof source === 'string') {
    try {
      json = JSON.parse(source);
    } catch (error) {
      throw new ConfigError(`Open-MAGVIT2 config is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isObject(json)) throw new ConfigError('Open-MAGVIT2 config must be a JSON object');
  const { args, className } = modelArguments(json);
  const dd = args.ddconfig;
  if (!isObject(dd)) throw new ConfigError('Open-MAGVIT2 config: model arguments have no "ddconfig"');
  if (dd.double_z === true) throw new ConfigError('Open-MAGVIT2 config: ddconfig.double_z = true is not supported (Open-MAGVIT2 always uses false)');
  const chMult = dd.ch_mult;
  if (!Array.isArray(chMult)) throw new ConfigError(`Open-MAGVIT2 config: ddconfig.ch_mult must be a list, got ${JSON.stringify(chMult)}`);
  const variant: Magvit2Variant = overrides.variant ?? (/video/i.test(className) ? 'video' : 'image');
  if (variant !== 'image' && variant !== 'video') throw new ConfigError(`variant must be 'image' or 'video', got '${String(variant)}'`);
  const data = dataSplitConfig(json);
  const size = overrides.imageSize ?? (data?.size as number | undefined) ?? (dd.resolution as number | undefined);
  if (size === undefined) throw new ConfigError('Open-MAGVIT2 config: no input size (data config "size" or ddconfig.resolution); pass imageSize');
  const loss = isObject(args.lossconfig) && isObject(args.lossconfig.params) ? args.lossconfig.params : {};
  const frames = variant === 'video' ? (overrides.frames ?? (data?.sequence_length as number | undefined) ?? 17) : overrides.frames;
  const embedDim = positiveInt(args.embed_dim, 'embed_dim');
  const config: Magvit2Config = {
    variant,
    ch: positiveInt(dd.ch, 'ddconfig.ch'),
    chMult: chMult as number[],
    numResBlocks: nonNegativeInt(dd.num_res_blocks, 'ddconfig.num_res_blocks'),
    zChannels: positiveInt(dd.z_channels, 'ddconfig.z_channels'),
    inChannels: positiveInt(dd.in_channels ?? 3, 'ddconfig.in_channels'),
    outCh: positiveInt(dd.out_ch ?? 3, 'ddconfig.out_ch'),
    embedDim,
    codebookSize: positiveInt(args.n_embed, 'n_embed'),
    imageSize: resolveImageSize(size, 'image size'),
    frames,
    lfq: {
      sampleMinimizationWeight: finite(args.sample_minimization_weight, 1, 'sample_minimization_weight'),
      batchMaximizationWeight: finite(args.batch_maximization_weight, 1, 'batch_maximization_weight'),
      codebookWeight: finite(loss.codebook_weight, 0.1, 'codebook_weight'),
      commitWeight: finite(loss.commit_weight, 0.25, 'commit_weight'),
      codebookEnlargeRatio: finite(loss.codebook_enlarge_ratio, 0, 'codebook_enlarge_ratio'),
      codebookEnlargeSteps: finite(loss.codebook_enlarge_steps, 2000, 'codebook_enlarge_steps'),
      factorizedBits: Array.isArray(args.factorized_bits) ? (args.factorized_bits as number[]) : defaultFactorizedBits(embedDim),
    },
    useEma: args.use_ema === true,
    normalization: overrides.normalization ?? vtokSection(json).normalization ?? 'clip',
  };
  if (config.inChannels !== 3 || config.outCh !== 3) {
    throw new ConfigError(`Open-MAGVIT2 config: in_channels and out_ch must be 3 (RGB), got ${config.inChannels} and ${config.outCh}`);
  }
  validateMagvit2Config(config);
  return config;
}

/** vtok's own additions to the config (not read by Open-MAGVIT2): `{ "vtok": { "normalization": "causal" } }`. */
function vtokSection(json: Json): { normalization?: NormMode } {
  const v = json.vtok;
  if (!isObject(v)) return {};
  return { normalization: v.normalization as NormMode | undefined };
}

/** Upstream's default split is [9, 9] for 18 bits; other widths split in two halves. */
function defaultFactorizedBits(bits: number): number[] {
  return [Math.ceil(bits / 2), Math.floor(bits / 2)];
}

/** The config as Open-MAGVIT2's YAML layout (LightningCLI), which parseMagvit2Config reads back. */
export function magvit2ConfigToJson(c: Magvit2Config): Record<string, unknown> {
  const split = {
    params: {
      config: {
        size: c.imageSize[0] === c.imageSize[1] ? c.imageSize[0] : [...c.imageSize],
        ...(c.variant === 'video' ? { sequence_length: c.frames } : {}),
      },
    },
  };
  return {
    model: {
      class_path: c.variant === 'video' ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel' : 'src.Open_MAGVIT2.models.lfqgan.VQModel',
      init_args: {
        ddconfig: {
          double_z: false,
          z_channels: c.zChannels,
          resolution: c.imageSize[0],
          in_channels: c.inChannels,
          out_ch: c.outCh,
          ch: c.ch,
          ch_mult: [...c.chMult],
          num_res_blocks: c.numResBlocks,
        },
        lossconfig: {
          target: `src.Open_MAGVIT2.modules.losses.${c.variant === 'video' ? 'video_vqperceptual' : 'vqperceptual'}.VQLPIPSWithDiscriminator`,
          params: {
            codebook_weight: c.lfq.codebookWeight,
            commit_weight: c.lfq.commitWeight,
            codebook_enlarge_ratio: c.lfq.codebookEnlargeRatio,
            codebook_enlarge_steps: c.lfq.codebookEnlargeSteps,
          },
        },
        n_embed: c.codebookSize,
        embed_dim: c.embedDim,
        sample_minimization_weight: c.lfq.sampleMinimizationWeight,
        batch_maximization_weight: c.lfq.batchMaximizationWeight,
        factorized_bits: [...c.lfq.factorizedBits],
        use_ema: c.useEma,
      },
    },
    data: { init_args: { validation: split } },
    vtok: { normalization: c.normalization },
  };
}
