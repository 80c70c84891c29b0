// @vtok/maskgit: the MaskGIT generators of TiTok (ImageBert, UViTBert), their sampler, masking
// schedules, training objective and checkpoint loader, over any tokenizer's TokenSpace.
export {
  type MaskGITConfig,
  type MaskGITConfigInput,
  type MaskGITModelType,
  type MaskGITSamplingDefaults,
  type MaskGITVocabulary,
  MASKGIT_DEFAULTS,
  GUIDANCE_DECAYS,
  resolveMaskGITConfig,
  maskgitVocabulary,
  maskgitParameterCount,
  sequenceLength,
} from './config';
export { type JsonObject, fromOfficialConfig, toOfficialConfig, isOfficialConfig } from './official-config';
export { MaskGITGenerator, type ClassLabels, type LogitsOptions, type MaskGITModelOptions } from './generator';
export { ImageBert, BERT_LAYER_NORM_EPS } from './image-bert';
export { UViTBert, UVIT_LAYER_NORM_EPS } from './uvit-bert';
export { createMaskGIT, type MaskGITConfigSpec } from './create';
export { MASKGIT_PRESETS, maskgitPreset, isMaskGITPreset, type MaskGITPreset, type MaskGITPresetName } from './presets';
export {
  type MaskSchedule,
  type MaskScheduleConfigs,
  type MaskScheduleConfig,
  type MaskScheduleName,
  type MaskScheduleSpec,
  maskScheduleRegistry,
  registerMaskSchedule,
  createMaskSchedule,
  maskScheduleNames,
  resolveMaskSchedule,
} from './schedules';
export { type GumbelNoise, type GumbelRequest, seededGumbelNoise } from './noise';
export { type MaskGITSampleOptions, type MaskGITStepEvent, guidanceScaleAt, maskLengthAt } from './sample';
export {
  maskTokens,
  maskCountAt,
  dropClasses,
  mlmLoss,
  type MaskTokensOptions,
  type MaskedTokens,
  type MLMLossOptions,
  type MLMLossResult,
  type UniformSource,
} from './training';
export { loadMaskGIT, saveMaskGIT, type LoadMaskGITOptions } from './loader';
