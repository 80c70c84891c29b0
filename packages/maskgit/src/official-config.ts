/**
 * The official generator config (`config.json` of the `yucornetto/generator_titok_*` repos: the whole
 * OmegaConf infer config, with `model.vq_model` and `model.generator`) to and from MaskGITConfig.
 */
import { ConfigError, type GuidanceDecay, resolveConfigReferences } from '@vtok/core';
import { type MaskGITConfig, type MaskGITConfigInput, resolveMaskGITConfig, sequenceLength } from './config';

export type JsonObject = { [key: string]: unknown };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for the official nested layout (`model.generator` present). */
export function isOfficialConfig(value: unknown): value is JsonObject {
  return isObject(value) && isObject(value.model) && isObject((value.model as JsonObject).generator);
}

function field<T>(section: JsonObject, key: string, where: string, check: (v: unknown) => v is T, expected: string): T | undefined {
  const v = section[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw new ConfigError(`${where}.${key} must be ${expected}, got ${JSON.stringify(v)}`);
  return v;
}
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isIntArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x));

/**
 * MaskGITConfig from an official config object (references resolved here). Absent fields take the
 * official code's defaults. `guidance_decay` may be the older boolean (true = linear). vtok writes three
 * extra keys the official code ignores: `token_shape` (a 2D grid), `guidance_scale_pow` and
 * `softmax_temperature_annealing`.
 */
export function fromOfficialConfig(official: unknown): MaskGITConfig {
  if (!isOfficialConfig(official)) {
    throw new ConfigError('an official MaskGIT config needs model.generator (and model.vq_model.codebook_size); got ' + JSON.stringify(official)?.slice(0, 200));
  }
  const root = resolveConfigReferences(official);
  const model = root.model as JsonObject;
  const vq = isObject(model.vq_model) ? model.vq_model : {};
  const g = model.generator as JsonObject;
  const where = 'model.generator';
  const codebookSize = field(vq, 'codebook_size', 'model.vq_model', isNumber, 'a number');
  if (codebookSize === undefined) throw new ConfigError('the official config has no model.vq_model.codebook_size (the image-token vocabulary K)');
  const seqLen = field(g, 'image_seq_len', where, isNumber, 'a number') ?? field(vq, 'num_latent_tokens', 'model.vq_model', isNumber, 'a number');
  const tokenShape = field(g, 'token_shape', where, isIntArray, 'an array of integers') ?? (seqLen !== undefined ? [seqLen] : undefined);
  if (!tokenShape) throw new ConfigError('the official config gives no sequence length (model.generator.image_seq_len or model.vq_model.num_latent_tokens)');
  const product = tokenShape.reduce((a, b) => a * b, 1);
  if (seqLen !== undefined && product !== seqLen) {
    throw new ConfigError(`${where}.token_shape [${tokenShape.join(', ')}] holds ${product} tokens but image_seq_len is ${seqLen}`);
  }
  const modelType = field(g, 'model_type', where, isString, "'ViT' or 'UViT'");
  if (modelType !== undefined && modelType !== 'ViT' && modelType !== 'UViT') {
    throw new ConfigError(`${where}.model_type must be "ViT" (ImageBert) or "UViT" (UViTBert), got ${JSON.stringify(modelType)}`);
  }
  const decayRaw = g.guidance_decay;
  let guidanceDecay: GuidanceDecay | undefined;
  if (typeof decayRaw === 'boolean') guidanceDecay = decayRaw ? 'linear' : 'constant';
  else if (decayRaw !== undefined && decayRaw !== null) guidanceDecay = field(g, 'guidance_decay', where, isString, 'a string') as GuidanceDecay;
  const input: MaskGITConfigInput = {
    modelType: modelType as MaskGITConfig['modelType'] | undefined,
    codebookSize,
    numClasses: field(g, 'condition_num_classes', where, isNumber, 'a number'),
    tokenShape,
    hiddenSize: field(g, 'hidden_size', where, isNumber, 'a number'),
    numLayers: field(g, 'num_hidden_layers', where, isNumber, 'a number'),
    numHeads: field(g, 'num_attention_heads', where, isNumber, 'a number'),
    intermediateSize: field(g, 'intermediate_size', where, isNumber, 'a number'),
    dropout: field(g, 'dropout', where, isNumber, 'a number'),
    attnDrop: field(g, 'attn_drop', where, isNumber, 'a number'),
    classLabelDropout: field(g, 'class_label_dropout', where, isNumber, 'a number'),
    sampling: dropUndefined({
      steps: field(g, 'num_steps', where, isNumber, 'a number'),
      guidanceScale: field(g, 'guidance_scale', where, isNumber, 'a number'),
      guidanceDecay,
      guidanceScalePow: field(g, 'guidance_scale_pow', where, isNumber, 'a number'),
      randomizeTemperature: field(g, 'randomize_temperature', where, isNumber, 'a number'),
      softmaxTemperatureAnnealing: field(g, 'softmax_temperature_annealing', where, isBoolean, 'a boolean'),
      schedule: field(g, 'mask_schedule_strategy', where, isString, 'a string'),
    }),
  };
  return resolveMaskGITConfig(dropUndefined(input) as MaskGITConfigInput);
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The official config layout for `config`, written over `base` (the config a model was loaded with, so
 * fields vtok does not use, such as the tokenizer's, survive a load/save round trip). The result loads
 * in the official code: `model_type` picks the class, `image_seq_len` is a plain number.
 */
export function toOfficialConfig(config: MaskGITConfig, base?: JsonObject): JsonObject {
  const root: JsonObject = base ? structuredClone(resolveConfigReferences(base)) : {};
  const model = (isObject(root.model) ? root.model : (root.model = {})) as JsonObject;
  const vq = (isObject(model.vq_model) ? model.vq_model : (model.vq_model = {})) as JsonObject;
  const g = (isObject(model.generator) ? model.generator : (model.generator = {})) as JsonObject;
  const seqLen = sequenceLength(config);
  vq.codebook_size = config.codebookSize;
  if (vq.num_latent_tokens === undefined) vq.num_latent_tokens = seqLen;
  Object.assign(g, {
    model_type: config.modelType,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    intermediate_size: config.intermediateSize,
    dropout: config.dropout,
    attn_drop: config.attnDrop,
    num_steps: config.sampling.steps,
    class_label_dropout: config.classLabelDropout,
    image_seq_len: seqLen,
    condition_num_classes: config.numClasses,
    randomize_temperature: config.sampling.randomizeTemperature,
    guidance_scale: config.sampling.guidanceScale,
    guidance_decay: config.sampling.guidanceDecay,
    guidance_scale_pow: config.sampling.guidanceScalePow,
    softmax_temperature_annealing: config.sampling.softmaxTemperatureAnnealing,
    mask_schedule_strategy: config.sampling.schedule,
  });
  if (config.tokenShape.length > 1) g.token_shape = [...config.tokenShape];
  else delete g.token_shape;
  return root;
}

