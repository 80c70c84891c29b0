/**
 * Loading LPIPS weights through @vtok/core's I/O layer (any source: a folder, a file, a URL, a hub id, a map
 * of files; safetensors or a PyTorch .pth), under the official names:
 * - a full LPIPS state dict (`net.slice1.0.weight`, …, `lin0.model.1.weight`, …; `scaling_layer.*` are the
 *   fixed constants and are skipped), e.g. `lpips.LPIPS(net='vgg').state_dict()` saved with torch.save;
 * - or the two files the official code reads: the `lin*` layers (the lpips package's
 *   `weights/v0.1/vgg.pth`, or taming's `vgg.pth`) as `source`, and torchvision's VGG16 weights
 *   (`features.<i>.*`; `classifier.*` is skipped) as `options.vgg`.
 * Every missing, unexpected and mis-shaped tensor of all files is reported in one StateDictError.
 */
import {
  ConfigError,
  type ModelSource,
  type OpenModelOptions,
  type OpenedModel,
  type WeightsEntry,
  type WeightsFile,
  loadWeightsInto,
  openModel,
  withoutRandomInit,
} from '@vtok/core';
import { LPIPS, LPIPS_VGG_CHANNELS, LPIPS_VGG_SLICES } from './lpips';

export interface LoadLPIPSOptions extends OpenModelOptions {
  /** The VGG16 trunk's weights when `source` holds only the `lin*` layers (torchvision's `features.*` names, or `net.slice*`). */
  vgg?: ModelSource;
  /** Inputs in [0, 1] (see LPIPSConfig). Default false. */
  normalize?: boolean;
}

/** The index of the slice that holds torchvision's `features.<i>`, 1-based; undefined past the last. */
function sliceOf(index: number): number | undefined {
  const s = LPIPS_VGG_SLICES.findIndex(({ convs }) => index <= convs[convs.length - 1]);
  return s < 0 ? undefined : s + 1;
}

/**
 * The LPIPS state-dict name of an entry of an official file, or null for entries that are not weights here.
 * Names it does not know are returned as they are (and reported as unexpected).
 */
export function lpipsKeyOf(fileName: string): string | null {
  if (/^scaling_layer\.(shift|scale)$/.test(fileName) || fileName.startsWith('classifier.')) return null;
  const vgg = /^features\.(\d+)\.(weight|bias)$/.exec(fileName);
  if (vgg) {
    const slice = sliceOf(Number(vgg[1]));
    if (slice !== undefined) return `net.slice${slice}.${vgg[1]}.${vgg[2]}`;
  }
  return fileName;
}

/**
 * The five stage widths as the files give them: a stage's `lin<k>.model.1.weight` [1, C, 1, 1], else the
 * output channels of one of its convs; VGG16's for a stage the files say nothing about (then reported).
 */
function channelsOf(entries: readonly WeightsEntry[]): number[] {
  const widths: (number | undefined)[] = [...LPIPS_VGG_CHANNELS];
  const known = new Set<number>();
  for (const entry of entries) {
    const key = lpipsKeyOf(entry.name);
    const lin = key && /^lin([0-4])\.model\.1\.weight$/.exec(key);
    const conv = key && /^net\.slice([1-5])\.\d+\.weight$/.exec(key);
    if (lin && entry.shape.length === 4) {
      widths[Number(lin[1])] = entry.shape[1];
      known.add(Number(lin[1]));
    } else if (conv && entry.shape.length === 4 && !known.has(Number(conv[1]) - 1)) widths[Number(conv[1]) - 1] = entry.shape[0];
  }
  return widths as number[];
}

/** Several opened weights files as one, so one check covers them all. */
function joinWeights(files: WeightsFile[]): WeightsFile {
  if (files.length === 1) return files[0];
  const owner = new Map<string, string>();
  for (const file of files) {
    for (const entry of file.entries) {
      const key = lpipsKeyOf(entry.name);
      if (key === null) continue;
      const first = owner.get(key);
      if (first !== undefined) throw new ConfigError(`loadLPIPS: "${key}" is given by both ${first} and ${file.where}; give each weight once`);
      owner.set(key, file.where);
    }
  }
  return {
    format: files[0].format,
    where: files.map((f) => f.where).join(' + '),
    metadata: {},
    entries: files.flatMap((f) => f.entries),
    forEach: async (onTensor) => {
      for (const file of files) await file.forEach(onTensor);
    },
    close: async () => {
      for (const file of files) await file.close();
    },
  };
}

/** LPIPS with official weights (see the module comment); the stage widths are read from the files. */
export async function loadLPIPS(source: ModelSource, options: LoadLPIPSOptions = {}): Promise<LPIPS> {
  const { vgg, normalize, ...rest } = options;
  const openOptions: OpenModelOptions = { configFile: false, ...rest };
  const opened: OpenedModel[] = [];
  try {
    opened.push(await openModel(source, openOptions));
    if (vgg !== undefined) opened.push(await openModel(vgg, openOptions));
    const weights = joinWeights(opened.map((o) => o.weights));
    const model = withoutRandomInit(() => new LPIPS({ channels: channelsOf(weights.entries), normalize }));
    try {
      await loadWeightsInto(model, weights, { keyOf: lpipsKeyOf });
    } catch (error) {
      model.dispose();
      throw error;
    }
    opened[0].ready('LPIPS');
    return model;
  } finally {
    await Promise.all(opened.map((o) => o.close()));
  }
}
