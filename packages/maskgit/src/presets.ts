/**
 * The released TiTok generators (`configs/infer/TiTok/titok_{l32,b64,s128}.yaml`, the same numbers as
 * the `config.json` of `yucornetto/generator_titok_*_imagenet`), at their real sizes. Sampling defaults
 * are the ones the official sampling script uses with them (softmax-temperature annealing on).
 */
import type { MaskGITConfigInput } from './config';

const IMAGENET = { codebookSize: 4096, numClasses: 1000, dropout: 0.1, attnDrop: 0.1, classLabelDropout: 0.1 } as const;

export const maskgitPresets = {
  /** ImageBert for TiTok-L-32: 177,202,432 parameters. */
  'titok-l32': {
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
  'titok-b64': {
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
  'titok-s128': {
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

export type MaskGITPresetName = keyof typeof maskgitPresets;

export const isMaskGITPreset = (name: unknown): name is MaskGITPresetName => typeof name === 'string' && Object.hasOwn(maskgitPresets, name);
