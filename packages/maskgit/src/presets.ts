/**
 * The released TiTok generators (`configs/infer/TiTok/titok_{l32,b64,s128}.yaml`, the same numbers as
 * the `config.json` of `yucornetto/generator_titok_*_imagenet`), at their real sizes. Sampling defaults
 * are the ones the official sampling script uses with them (softmax-temperature annealing on).
 */
import { UnknownPluginError } from '@vtok/core';
import type { MaskGITConfigInput } from './config';

const IMAGENET = { codebookSize: 4096, numClasses: 1000, dropout: 0.1, attnDrop: 0.1, classLabelDropout: 0.1 } as const;

const CONFIGS = {
  /** ImageBert for TiTok-L-32: 177,202,432 parameters. */
  'titok-l-32': {
    ...IMAGENET,
    modelType: 'ViT',
    tokenShape: [32],
    hiddenSize: 768,
    numLayers: 24,
    numHeads: 16,
    intermediateSize: 3072,
    sampling: { steps: 8, randomizeTemperature: 9.5, guidanceScale: 4.5, guidanceDecay: 'linear', softmaxTemperatureAnnealing: true },
  },
  /** ImageBert for TiTok-B-64: 177,226,240 parameters. */
  'titok-b-64': {
    ...IMAGENET,
    modelType: 'ViT',
    tokenShape: [64],
    hiddenSize: 768,
    numLayers: 24,
    numHeads: 16,
    intermediateSize: 3072,
    sampling: { steps: 8, randomizeTemperature: 11.0, guidanceScale: 3.0, guidanceDecay: 'linear', softmaxTemperatureAnnealing: true },
  },
  /** UViTBert for TiTok-S-128: 294,990,848 parameters. */
  'titok-s-128': {
    ...IMAGENET,
    modelType: 'UViT',
    tokenShape: [128],
    hiddenSize: 1024,
    numLayers: 20,
    numHeads: 16,
    intermediateSize: 4096,
    sampling: { steps: 64, randomizeTemperature: 2.8, guidanceScale: 6.9, guidanceDecay: 'power-cosine', softmaxTemperatureAnnealing: true },
  },
} as const satisfies Record<string, MaskGITConfigInput>;

export type MaskGITPresetName = keyof typeof CONFIGS;

export interface MaskGITPreset {
  name: MaskGITPresetName;
  /** Where the released weights are: a hub id for `loadMaskGIT`. */
  hub: string;
  config: MaskGITConfigInput;
}

const HUB: Record<MaskGITPresetName, string> = {
  'titok-l-32': 'hf:yucornetto/generator_titok_l32_imagenet',
  'titok-b-64': 'hf:yucornetto/generator_titok_b64_imagenet',
  'titok-s-128': 'hf:yucornetto/generator_titok_s128_imagenet',
};

/** The released generators by name: the generator for each TiTok tokenizer of the same name. */
export const MASKGIT_PRESETS: Readonly<Record<MaskGITPresetName, MaskGITPreset>> = Object.fromEntries(
  (Object.keys(CONFIGS) as MaskGITPresetName[]).map((name) => [name, { name, hub: HUB[name], config: CONFIGS[name] as unknown as MaskGITConfigInput }]),
) as Record<MaskGITPresetName, MaskGITPreset>;

/** A preset by name (case-insensitive); unknown names throw an UnknownPluginError listing the known ones. */
export function maskgitPreset(name: string): MaskGITPreset {
  const found = Object.values(MASKGIT_PRESETS).find((p) => p.name === name.toLowerCase());
  if (!found) throw new UnknownPluginError('MaskGIT preset', name, Object.keys(MASKGIT_PRESETS));
  return { ...found, config: structuredClone(found.config) };
}

export const isMaskGITPreset = (name: unknown): name is MaskGITPresetName =>
  typeof name === 'string' && Object.keys(MASKGIT_PRESETS).includes(name.toLowerCase());
