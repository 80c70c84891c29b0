/** Builds the right generator class for a config: 'ViT' → ImageBert, 'UViT' → UViTBert (as `demo_util.get_titok_generator`). */
import { type MaskGITConfigInput, resolveMaskGITConfig } from './config';
import type { MaskGITGenerator, MaskGITModelOptions } from './generator';
import { ImageBert } from './image-bert';
import { type MaskGITPresetName, maskgitPreset } from './presets';
import { UViTBert } from './uvit-bert';

/** A config, or the name of a released generator ('titok-l-32', 'titok-b-64', 'titok-s-128'). */
export type MaskGITConfigSpec = MaskGITConfigInput | MaskGITPresetName;

export function configFromSpec(spec: MaskGITConfigSpec): MaskGITConfigInput {
  if (typeof spec === 'string') return maskgitPreset(spec).config;
  return spec;
}

/** A new generator (random weights, official init unless `options.init` says otherwise). */
export function createMaskGIT(spec: MaskGITConfigSpec, options: MaskGITModelOptions = {}): MaskGITGenerator {
  const config = resolveMaskGITConfig(configFromSpec(spec));
  return config.modelType === 'UViT' ? new UViTBert(config, options) : new ImageBert(config, options);
}
