/**
 * TiTok's configuration in two forms: the official one (the OmegaConf tree the Hugging Face repos ship
 * as `config.json`, snake_case, with `${...}` references and keys left out for their code defaults) and
 * the resolved one the model is built from (`TiTokConfig`). `parseOfficialConfig` turns the first into
 * the second; `officialConfigFor` goes back, for new models and `saveTiTok`.
 */
import { ConfigError, type QuantizerConfigs, resolveReference } from '@vtok/core';

/** A ViT's size: the official presets `small`/`base`/`large`, or explicit numbers. */
export interface VitSize {
  width: number;
  numLayers: number;
  numHeads: number;
}

/** The MaskGIT-VQGAN pixel decoder's sizes (hard-coded upstream; configurable here for small models). */
export interface PixelDecoderConfig {
  hiddenChannels: number;
  /** Channel multiplier per resolution level; level 0 is the output resolution. */
  channelMult: number[];
  numResBlocks: number;
  /** Channels of the decoder input, equal to the pixel codebook's embedding size. */
  zChannels: number;
}

export type QuantizeMode = 'vq' | 'vae';

/**
 * A quantizer registered with @vtok/core's registry, by its registry config: `{ type, ...its options }`,
 * as `createQuantizer` takes it, with `dim` optional (it defaults to the model's `tokenSize`, and must
 * equal it when given). Any plugin whose config type is declared on `QuantizerConfigs` type-checks here.
 */
export type TiTokQuantizerConfig = {
  [K in keyof QuantizerConfigs & string]: { type: K } & Omit<QuantizerConfigs[K], 'dim'> & { dim?: number };
}[keyof QuantizerConfigs & string];

/** Everything needed to build a TiTok, resolved: no references, no missing keys. */
export interface TiTokConfig {
  /** Input images are imageSize × imageSize (`dataset.preprocessing.crop_size`). */
  imageSize: number;
  encoder: VitSize;
  decoder: VitSize;
  encoderPatchSize: number;
  decoderPatchSize: number;
  numLatentTokens: number;
  /** Channels of one latent token (the VAE encoder emits twice as many: mean and log-variance). */
  tokenSize: number;
  quantizeMode: QuantizeMode;
  /** VQ only: the built-in VectorQuantizer's codebook size (official `codebook_size`). */
  codebookSize: number;
  /** VQ only: the built-in VectorQuantizer's `use_l2_norm`. */
  useL2Norm: boolean;
  /** VQ only: the built-in VectorQuantizer's `commitment_cost`. */
  commitmentCost: number;
  /**
   * VQ only: a registered quantizer plugin in place of the built-in VQ, e.g.
   * `{ type: 'residual-vq', stageCodebookSize: 64, numStages: 2 }` (`dim` defaults to tokenSize). TiTok builds it
   * with `createQuantizer`; the token vocabulary is its `codebookSize`, and a plugin that is a Module keeps its
   * parameters in TiTok's state dict under `quantize.*`. When set, codebookSize, useL2Norm and commitmentCost
   * are not used (0 when the config gives none). Left out: the official VQ,
   * `{ type: 'vq', codebookSize, useL2Norm, commitmentCost }`, with its official key `quantize.embedding.weight`.
   * Written to config.json as `model.vq_model.quantizer`, so saved models load back with it.
   */
  quantizer?: TiTokQuantizerConfig;
  /** The legacy encoder reshape and the proxy-code head (the released two-stage S/B/L models). */
  isLegacy: boolean;
  /** Decode through the MaskGIT-VQGAN codebook and pixel decoder (legacy models after stage 2). */
  finetuneDecoder: boolean;
  /** Present when finetuneDecoder is. */
  pixelDecoder?: PixelDecoderConfig;
  /** Rows of the pixel codebook = proxy codes the legacy head predicts (1024 upstream). */
  pixelCodebookSize: number;
}

/** The official ViT presets, hard-coded in TiTokEncoder/TiTokDecoder (modeling/modules/blocks.py). */
export const VIT_PRESETS: Readonly<Record<'small' | 'base' | 'large', VitSize>> = {
  small: { width: 512, numLayers: 8, numHeads: 8 },
  base: { width: 768, numLayers: 12, numHeads: 12 },
  large: { width: 1024, numLayers: 24, numHeads: 16 },
};

/** The MaskGIT-VQGAN decoder every released TiTok uses (hard-coded in modeling/titok.py). */
export const MASKGIT_VQGAN_DECODER: Readonly<PixelDecoderConfig> = {
  hiddenChannels: 128,
  channelMult: [1, 1, 2, 2, 4],
  numResBlocks: 2,
  zChannels: 256,
};
export const MASKGIT_VQGAN_CODEBOOK_SIZE = 1024;

/** The official config tree as JSON: whatever `OmegaConf.to_container(config)` wrote. */
export type OfficialConfig = Record<string, unknown>;

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `path` of the official tree with references resolved; undefined when absent. */
function reader(root: OfficialConfig) {
  return (path: string): Json => resolveReference(root, path);
}

/**
 * Builds a TiTokConfig from the official config tree (the HF `config.json`). References are resolved,
 * `is_legacy`/`finetune_decoder` default to true and `quantize_mode` to 'vq', as the official code does;
 * every other key it reads must be present. All problems are reported in one ConfigError.
 */
export function parseOfficialConfig(official: OfficialConfig): TiTokConfig {
  if (!isObject(official)) throw new ConfigError(`TiTok config: expected a JSON object, got ${JSON.stringify(official)?.slice(0, 80)}`);
  const get = reader(official);
  const problems: string[] = [];
  const vq = 'model.vq_model';

  const integer = (path: string, min = 1): number => {
    const v = get(path);
    if (v === undefined || v === null) problems.push(`${path} is missing`);
    else if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${path} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    else return v;
    return NaN;
  };
  const number = (path: string): number => {
    const v = get(path);
    if (v === undefined || v === null) problems.push(`${path} is missing`);
    else if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${path} must be a number, got ${JSON.stringify(v)}`);
    else return v;
    return NaN;
  };
  const boolean = (path: string, fallback?: boolean): boolean => {
    const v = get(path);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v === 'boolean') return v;
    problems.push(v === undefined ? `${path} is missing` : `${path} must be true or false, got ${JSON.stringify(v)}`);
    return false;
  };
  const vitSize = (path: string): VitSize => {
    const v = get(path);
    if (typeof v === 'string') {
      if (v in VIT_PRESETS) return { ...VIT_PRESETS[v as keyof typeof VIT_PRESETS] };
      problems.push(`${path} must be one of ${Object.keys(VIT_PRESETS).map((k) => `"${k}"`).join(', ')} or { width, num_layers, num_heads }, got "${v}"`);
    } else if (isObject(v)) {
      const width = integer(`${path}.width`);
      const numLayers = integer(`${path}.num_layers`, 0);
      const numHeads = integer(`${path}.num_heads`);
      if (Number.isInteger(width) && Number.isInteger(numHeads) && width % numHeads !== 0) {
        problems.push(`${path}: width ${width} must be a multiple of num_heads ${numHeads}`);
      }
      return { width, numLayers, numHeads };
    } else problems.push(v === undefined ? `${path} is missing` : `${path} must be a preset name or { width, num_layers, num_heads }, got ${JSON.stringify(v)}`);
    return { width: NaN, numLayers: NaN, numHeads: NaN };
  };

  const modeValue = get(`${vq}.quantize_mode`) ?? 'vq';
  let quantizeMode: QuantizeMode = 'vq';
  if (modeValue === 'vq' || modeValue === 'vae') quantizeMode = modeValue;
  else problems.push(`${vq}.quantize_mode must be "vq" or "vae", got ${JSON.stringify(modeValue)}`);

  const imageSize = integer('dataset.preprocessing.crop_size');
  const encoder = vitSize(`${vq}.vit_enc_model_size`);
  const decoder = vitSize(`${vq}.vit_dec_model_size`);
  const encoderPatchSize = integer(`${vq}.vit_enc_patch_size`);
  const decoderPatchSize = integer(`${vq}.vit_dec_patch_size`);
  const numLatentTokens = integer(`${vq}.num_latent_tokens`);
  const tokenSize = integer(`${vq}.token_size`);
  const isLegacy = boolean(`${vq}.is_legacy`, true);
  const finetuneDecoder = boolean(`${vq}.finetune_decoder`, true);
  // A quantizer plugin (our extension key): its registry config, kept as it is.
  const quantizerValue = get(`${vq}.quantizer`);
  let quantizer: TiTokQuantizerConfig | undefined;
  if (quantizerValue !== undefined && quantizerValue !== null) {
    if (!isObject(quantizerValue) || typeof quantizerValue.type !== 'string' || !quantizerValue.type) {
      problems.push(`${vq}.quantizer must be a registered quantizer's config { type: "<registered name>", ... }, got ${JSON.stringify(quantizerValue)?.slice(0, 80)}`);
    } else if (quantizeMode !== 'vq') {
      problems.push(`${vq}.quantizer is set with quantize_mode "${quantizeMode}"; a quantizer replaces the VQ of quantize_mode "vq"`);
    } else quantizer = structuredClone(quantizerValue) as TiTokQuantizerConfig;
  }
  // The VAE path never reads the VQ keys (the official VAE configs leave them out); with a quantizer plugin
  // they are optional (kept when given, for the record).
  let codebookSize = 0;
  let useL2Norm = false;
  let commitmentCost = 0;
  if (quantizeMode === 'vq' && !quantizer) {
    codebookSize = integer(`${vq}.codebook_size`);
    useL2Norm = boolean(`${vq}.use_l2_norm`);
    commitmentCost = number(`${vq}.commitment_cost`);
  } else if (quantizer && get(`${vq}.codebook_size`) !== undefined) {
    codebookSize = integer(`${vq}.codebook_size`);
    useL2Norm = boolean(`${vq}.use_l2_norm`, false);
    commitmentCost = get(`${vq}.commitment_cost`) === undefined ? 0.25 : number(`${vq}.commitment_cost`);
  }

  if (finetuneDecoder && quantizeMode !== 'vq') {
    problems.push(`${vq}.finetune_decoder is true with quantize_mode "vae"; the official code supports it with "vq" only`);
  }
  if (finetuneDecoder && !isLegacy) {
    problems.push(`${vq}.finetune_decoder is true with is_legacy false: the pixel head emits RGB, not proxy-code logits for the MaskGIT-VQGAN decoder`);
  }

  let pixelDecoder: PixelDecoderConfig | undefined;
  let pixelCodebookSize = MASKGIT_VQGAN_CODEBOOK_SIZE;
  const pq = get(`${vq}.pixel_quantize`);
  if (pq !== undefined && pq !== null) {
    if (!isObject(pq)) problems.push(`${vq}.pixel_quantize must be { num_embeddings, embedding_dim }`);
    else pixelCodebookSize = integer(`${vq}.pixel_quantize.num_embeddings`);
  }
  if (finetuneDecoder) {
    const pd = get(`${vq}.pixel_decoder`);
    if (pd === undefined || pd === null) pixelDecoder = { ...MASKGIT_VQGAN_DECODER, channelMult: [...MASKGIT_VQGAN_DECODER.channelMult] };
    else if (!isObject(pd)) problems.push(`${vq}.pixel_decoder must be { hidden_channels, channel_mult, num_res_blocks, z_channels }`);
    else {
      const mult = get(`${vq}.pixel_decoder.channel_mult`);
      const channelMult = Array.isArray(mult) && mult.length > 0 && mult.every((m) => Number.isInteger(m) && (m as number) > 0) ? (mult as number[]) : [];
      if (!channelMult.length) problems.push(`${vq}.pixel_decoder.channel_mult must be a non-empty list of positive integers, got ${JSON.stringify(mult)}`);
      pixelDecoder = {
        hiddenChannels: integer(`${vq}.pixel_decoder.hidden_channels`),
        channelMult: [...channelMult],
        numResBlocks: integer(`${vq}.pixel_decoder.num_res_blocks`, 0),
        zChannels: integer(`${vq}.pixel_decoder.z_channels`),
      };
      if (Number.isInteger(pixelDecoder.hiddenChannels) && channelMult.some((m) => (m * pixelDecoder!.hiddenChannels) % 32 !== 0)) {
        problems.push(`${vq}.pixel_decoder: every hidden_channels × channel_mult must be a multiple of 32 (GroupNorm with 32 groups)`);
      }
    }
    if (isObject(pq) && pixelDecoder) {
      const dim = integer(`${vq}.pixel_quantize.embedding_dim`);
      if (Number.isInteger(dim) && dim !== pixelDecoder.zChannels) {
        problems.push(`${vq}.pixel_quantize.embedding_dim (${dim}) must equal pixel_decoder.z_channels (${pixelDecoder.zChannels})`);
      }
    }
  }

  if (Number.isInteger(imageSize)) {
    for (const [name, p] of [['vit_enc_patch_size', encoderPatchSize], ['vit_dec_patch_size', decoderPatchSize]] as const) {
      if (Number.isInteger(p) && imageSize % p !== 0) problems.push(`${vq}.${name} (${p}) must divide crop_size (${imageSize})`);
    }
  }
  const quantizerDim = (quantizer as { dim?: unknown } | undefined)?.dim;
  if (quantizerDim !== undefined && quantizerDim !== tokenSize) {
    problems.push(`${vq}.quantizer.dim (${JSON.stringify(quantizerDim)}) must equal token_size (${tokenSize}), or be left out`);
  }
  if (problems.length) throw new ConfigError(`TiTok config is not usable:\n  ${problems.join('\n  ')}`);
  return {
    imageSize,
    encoder,
    decoder,
    encoderPatchSize,
    decoderPatchSize,
    numLatentTokens,
    tokenSize,
    quantizeMode,
    codebookSize,
    useL2Norm,
    commitmentCost,
    ...(quantizer ? { quantizer } : {}),
    isLegacy,
    finetuneDecoder,
    pixelDecoder,
    pixelCodebookSize,
  };
}

const presetName = (size: VitSize): string | VitSizeJson => {
  for (const [name, p] of Object.entries(VIT_PRESETS)) {
    if (p.width === size.width && p.numLayers === size.numLayers && p.numHeads === size.numHeads) return name;
  }
  return { width: size.width, num_layers: size.numLayers, num_heads: size.numHeads };
};
type VitSizeJson = { width: number; num_layers: number; num_heads: number };

const sameDecoder = (a: PixelDecoderConfig, b: PixelDecoderConfig): boolean =>
  a.hiddenChannels === b.hiddenChannels &&
  a.numResBlocks === b.numResBlocks &&
  a.zChannels === b.zChannels &&
  a.channelMult.length === b.channelMult.length &&
  a.channelMult.every((m, i) => m === b.channelMult[i]);

/**
 * The official config tree for a TiTokConfig, as the infer YAMLs write it: sizes that match an official
 * preset by name, the extension keys (`pixel_decoder`, `pixel_quantize`, explicit ViT sizes) only when
 * they differ from what the official code hard-codes, so an official-sized model saves a config the
 * official code reads.
 */
export function officialConfigFor(config: TiTokConfig): OfficialConfig {
  const vq: Record<string, Json> = {};
  if (config.quantizeMode === 'vq' && config.quantizer) {
    // The plugin's registry config; the built-in VQ's keys only when the config has them.
    vq.quantizer = structuredClone(config.quantizer) as Json;
    if (config.codebookSize > 0) {
      vq.codebook_size = config.codebookSize;
      vq.use_l2_norm = config.useL2Norm;
      vq.commitment_cost = config.commitmentCost;
    }
    vq.token_size = config.tokenSize;
  } else if (config.quantizeMode === 'vq') {
    vq.codebook_size = config.codebookSize;
    vq.token_size = config.tokenSize;
    vq.use_l2_norm = config.useL2Norm;
    vq.commitment_cost = config.commitmentCost;
  } else {
    vq.quantize_mode = 'vae';
    vq.token_size = config.tokenSize;
  }
  vq.vit_enc_model_size = presetName(config.encoder);
  vq.vit_dec_model_size = presetName(config.decoder);
  vq.vit_enc_patch_size = config.encoderPatchSize;
  vq.vit_dec_patch_size = config.decoderPatchSize;
  vq.num_latent_tokens = config.numLatentTokens;
  vq.finetune_decoder = config.finetuneDecoder;
  if (!config.isLegacy) vq.is_legacy = false;
  if (config.pixelDecoder && !sameDecoder(config.pixelDecoder, MASKGIT_VQGAN_DECODER)) {
    const d = config.pixelDecoder;
    vq.pixel_decoder = { hidden_channels: d.hiddenChannels, channel_mult: [...d.channelMult], num_res_blocks: d.numResBlocks, z_channels: d.zChannels };
  }
  if (config.pixelCodebookSize !== MASKGIT_VQGAN_CODEBOOK_SIZE || (config.pixelDecoder && config.pixelDecoder.zChannels !== MASKGIT_VQGAN_DECODER.zChannels)) {
    vq.pixel_quantize = { num_embeddings: config.pixelCodebookSize, embedding_dim: config.pixelDecoder?.zChannels ?? MASKGIT_VQGAN_DECODER.zChannels };
  }
  return { model: { vq_model: vq }, dataset: { preprocessing: { crop_size: config.imageSize } } };
}
