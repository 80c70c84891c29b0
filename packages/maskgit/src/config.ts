/**
 * The generator's configuration in vtok's words, with the official names in comments. One object holds
 * the architecture, the token space and the sampling defaults; `resolveMaskGITConfig` fills defaults and
 * checks it, so every model is built from a complete, valid config.
 */
import { ConfigError, type GuidanceDecay, assertFiniteNumber, assertPositiveInt } from '@vtok/core';

/** `model.generator.model_type`: 'ViT' builds ImageBert (L-32, B-64), 'UViT' builds UViTBert (S-128). */
export type MaskGITModelType = 'ViT' | 'UViT';

export const GUIDANCE_DECAYS: readonly GuidanceDecay[] = ['constant', 'linear', 'power-cosine'];

/** Defaults of `sample()`; every field can be overridden per call. */
export interface MaskGITSamplingDefaults {
  /** `num_steps`. */
  steps: number;
  /** `guidance_scale`. */
  guidanceScale: number;
  /** `guidance_decay`. */
  guidanceDecay: GuidanceDecay;
  /** `guidance_scale_pow` of `generate()` (power-cosine only). */
  guidanceScalePow: number;
  /** `randomize_temperature`: the Gumbel temperature at step 0, annealed linearly to 0. */
  randomizeTemperature: number;
  /** `softmax_temperature_annealing` of `generate()`; the official sampling script passes true. */
  softmaxTemperatureAnnealing: boolean;
  /** A registered masking schedule; the official generators hard-code arccos. */
  schedule: string;
}

export interface MaskGITConfig {
  modelType: MaskGITModelType;
  /** `vq_model.codebook_size`: K, the tokenizer's vocabulary. Also the mask token id. */
  codebookSize: number;
  /** `condition_num_classes`. */
  numClasses: number;
  /** Token shape without batch: `[32]` for TiTok-L-32, `[16, 16]` for a 2D grid. Its product is `image_seq_len`. */
  tokenShape: readonly number[];
  /** `hidden_size`. */
  hiddenSize: number;
  /** `num_hidden_layers` (UViT: in-blocks + out-blocks = layers, plus one mid block). */
  numLayers: number;
  /** `num_attention_heads`. */
  numHeads: number;
  /** `intermediate_size` (the MLP width). */
  intermediateSize: number;
  /** `dropout`: hidden dropout of the BERT generator while training (UViT uses none, as the official code). */
  dropout: number;
  /** `attn_drop`: attention-probability dropout of the BERT generator while training. */
  attnDrop: number;
  /** `class_label_dropout`: probability of training with the null class, for classifier-free guidance. */
  classLabelDropout: number;
  sampling: MaskGITSamplingDefaults;
}

/** What a caller must give; everything else has the official default. */
export type MaskGITConfigInput = Pick<MaskGITConfig, 'codebookSize' | 'tokenShape'> &
  Partial<Omit<MaskGITConfig, 'codebookSize' | 'tokenShape' | 'sampling'>> & {
    sampling?: Partial<MaskGITSamplingDefaults>;
  };

/**
 * Defaults: the architecture numbers are those the first ImageBert hard-coded (768/24/16/3072), the
 * sampling numbers those of the official `generate()` signature, except softmax-temperature annealing,
 * which the official sampling script (`sample_imagenet_titok.py`) turns on for the published results.
 */
export const MASKGIT_DEFAULTS = {
  modelType: 'ViT' as MaskGITModelType,
  numClasses: 1000,
  hiddenSize: 768,
  numLayers: 24,
  numHeads: 16,
  intermediateSize: 3072,
  dropout: 0.1,
  attnDrop: 0.1,
  classLabelDropout: 0.1,
  sampling: {
    steps: 8,
    guidanceScale: 3.0,
    guidanceDecay: 'constant' as GuidanceDecay,
    guidanceScalePow: 3.0,
    randomizeTemperature: 4.5,
    softmaxTemperatureAnnealing: true,
    schedule: 'arccos',
  },
} as const;

/** Fills defaults and checks every field; a bad field throws ConfigError naming it. */
export function resolveMaskGITConfig(input: MaskGITConfigInput): MaskGITConfig {
  if (!input || typeof input !== 'object') throw new ConfigError(`a MaskGIT config must be an object, got ${String(input)}`);
  const d = MASKGIT_DEFAULTS;
  const sampling = { ...d.sampling, ...(input.sampling ?? {}) };
  const config: MaskGITConfig = {
    modelType: input.modelType ?? d.modelType,
    codebookSize: input.codebookSize,
    numClasses: input.numClasses ?? d.numClasses,
    tokenShape: Array.isArray(input.tokenShape) ? [...input.tokenShape] : (input.tokenShape as never),
    hiddenSize: input.hiddenSize ?? d.hiddenSize,
    numLayers: input.numLayers ?? d.numLayers,
    numHeads: input.numHeads ?? d.numHeads,
    intermediateSize: input.intermediateSize ?? d.intermediateSize,
    dropout: input.dropout ?? d.dropout,
    attnDrop: input.attnDrop ?? d.attnDrop,
    classLabelDropout: input.classLabelDropout ?? d.classLabelDropout,
    sampling,
  };
  validateMaskGITConfig(config);
  return config;
}

const WHO = 'MaskGIT config';

function validateMaskGITConfig(c: MaskGITConfig): void {
  const E = ConfigError;
  if (c.modelType !== 'ViT' && c.modelType !== 'UViT') {
    throw new E(`MaskGIT modelType must be 'ViT' (ImageBert) or 'UViT' (UViTBert), got ${JSON.stringify(c.modelType)}`);
  }
  assertPositiveInt(c.codebookSize, WHO, 'codebookSize', E);
  assertPositiveInt(c.numClasses, WHO, 'numClasses', E);
  if (!Array.isArray(c.tokenShape) || c.tokenShape.length === 0) {
    throw new E(`MaskGIT tokenShape must be a non-empty array of positive integers (e.g. [32] or [16, 16]), got ${JSON.stringify(c.tokenShape)}`);
  }
  c.tokenShape.forEach((dim, i) => assertPositiveInt(dim, WHO, `tokenShape[${i}]`, E));
  assertPositiveInt(c.hiddenSize, WHO, 'hiddenSize', E);
  assertPositiveInt(c.numLayers, WHO, 'numLayers', E);
  assertPositiveInt(c.numHeads, WHO, 'numHeads', E);
  assertPositiveInt(c.intermediateSize, WHO, 'intermediateSize', E);
  if (c.hiddenSize % c.numHeads !== 0) {
    throw new E(`MaskGIT hiddenSize (${c.hiddenSize}) must be a multiple of numHeads (${c.numHeads})`);
  }
  if (c.modelType === 'UViT' && c.numLayers % 2 !== 0) {
    throw new E(`a UViT generator splits numLayers into equal in- and out-blocks, so it must be even; got ${c.numLayers}`);
  }
  for (const [name, p] of [['dropout', c.dropout], ['attnDrop', c.attnDrop], ['classLabelDropout', c.classLabelDropout]] as const) {
    assertFiniteNumber(p, WHO, name, { ErrorClass: E });
    if (p < 0 || p >= 1) throw new E(`MaskGIT ${name} must be in [0, 1), got ${p}`);
  }
  const s = c.sampling;
  assertPositiveInt(s.steps, WHO, 'sampling.steps', E);
  assertFiniteNumber(s.guidanceScale, WHO, 'sampling.guidanceScale', { min: 0, ErrorClass: E });
  if (!GUIDANCE_DECAYS.includes(s.guidanceDecay)) {
    throw new E(`MaskGIT sampling.guidanceDecay must be one of ${GUIDANCE_DECAYS.map((g) => `'${g}'`).join(', ')}, got ${JSON.stringify(s.guidanceDecay)}`);
  }
  assertFiniteNumber(s.guidanceScalePow, WHO, 'sampling.guidanceScalePow', { ErrorClass: E });
  assertFiniteNumber(s.randomizeTemperature, WHO, 'sampling.randomizeTemperature', { min: 0, ErrorClass: E });
  if (typeof s.softmaxTemperatureAnnealing !== 'boolean') {
    throw new E(`MaskGIT sampling.softmaxTemperatureAnnealing must be a boolean, got ${JSON.stringify(s.softmaxTemperatureAnnealing)}`);
  }
  if (typeof s.schedule !== 'string' || !s.schedule) throw new E(`MaskGIT sampling.schedule must be a schedule name, got ${JSON.stringify(s.schedule)}`);
}

/** Number of image tokens, `image_seq_len`. */
export const sequenceLength = (c: Pick<MaskGITConfig, 'tokenShape'>): number => c.tokenShape.reduce((a, b) => a * b, 1);

/**
 * The official vocabulary of the generator's embedding table (comment block of `ImageBert.forward`):
 * `[0, K)` image codes, `K` the mask token, `K+1+c` class c, `K+1+numClasses` the null (dropped) class.
 */
export interface MaskGITVocabulary {
  /** K: image codes are `[0, K)`. */
  readonly codebookSize: number;
  /** K. */
  readonly maskId: number;
  /** K + 1: class c has id `classOffset + c`. */
  readonly classOffset: number;
  /** K + 1 + numClasses: the class token used for unconditional logits. */
  readonly nullClassId: number;
  /** K + numClasses + 2 rows of the embedding table. */
  readonly size: number;
}

export function maskgitVocabulary(codebookSize: number, numClasses: number): MaskGITVocabulary {
  return {
    codebookSize,
    maskId: codebookSize,
    classOffset: codebookSize + 1,
    nullClassId: codebookSize + 1 + numClasses,
    size: codebookSize + numClasses + 2,
  };
}

/** Parameter count from the config alone (no weights built): 177,202,432 for TiTok-L-32's generator. */
export function maskgitParameterCount(config: MaskGITConfigInput): number {
  const c = resolveMaskGITConfig(config);
  const h = c.hiddenSize;
  const f = c.intermediateSize;
  const vocab = maskgitVocabulary(c.codebookSize, c.numClasses).size;
  const positions = sequenceLength(c) + 1;
  const linear = (i: number, o: number, bias = true) => i * o + (bias ? o : 0);
  const lmHead = linear(h, c.codebookSize);
  if (c.modelType === 'ViT') {
    const embeddings = vocab * h + positions * h + 2 * h + 2 * h;
    const layer = 4 * linear(h, h) + 2 * h + linear(h, f) + linear(f, h) + 2 * h;
    return embeddings + c.numLayers * layer + lmHead;
  }
  const hidden = Math.trunc(h * (f / h));
  const block = 2 * h + linear(h, 3 * h, false) + linear(h, h) + 2 * h + linear(h, hidden) + linear(hidden, h);
  const blocks = (c.numLayers + 1) * block + (c.numLayers / 2) * linear(2 * h, h);
  return vocab * h + positions * h + blocks + 2 * h + lmHead;
}
