/**
 * @vtok/magvit2: the Open-MAGVIT2 tokenizer (MAGVIT-v2 architecture with lookup-free quantisation) for
 * images and causal video, loading the released checkpoints.
 */
export { loadMagvit2, createMagvit2, saveMagvit2, type LoadMagvit2Options, type CreateMagvit2Options } from './load';
export { Magvit2Tokenizer } from './tokenizer';
export { Magvit2Model, type Magvit2Part, type Magvit2ModelOptions, type ForwardOptions } from './model';
export {
  parseMagvit2Config,
  magvit2ConfigToJson,
  validateMagvit2Config,
  spatialFactor,
  temporalDownsamplings,
  latentFrames,
  decodedFrames,
  type Magvit2Config,
  type Magvit2ConfigOverrides,
  type Magvit2Variant,
  type ArchitectureConfig,
  type LfqLossConfig,
} from './config';
export { MAGVIT2_PRESETS, magvit2Preset, type Magvit2Preset, type Magvit2PresetName } from './presets';
export { Encoder, downsampleStrides } from './encoder';
export { Decoder, upsampleTemporalFactors } from './decoder';
export { type NormMode, causalGroupNorm, normalizeGroups } from './layers/norm';
export { createMagvit2Quantizer, magvit2TokenFactorization } from './quantizer';
export { openMagvit2KeyMap, openMagvit2StateDict, emaKey } from './weights';
// Token factorisation for generators over 2^18 vocabularies (sub-tokens of 2^9 × 2^9, or 2^6 × 2^12).
export { TokenFactorization, type TokenFactorizationConfig } from '@vtok/quantizers';
