/**
 * Loading and saving TiTok in the layout of the official Hugging Face repos: `config.json` (the
 * OmegaConf tree) and `model.safetensors` (the PyTorch state dict, F32, official names; conv kernels
 * OIHW there, HWIO here). Sources, caching, progress and atomic saves are core's I/O layer.
 */
import { ConfigError, loadModel, type ModelSource, type OpenModelOptions, saveModel, type SavedModelFiles, torchStateDictEntries } from '@vtok/core';
import { parseOfficialConfig, type OfficialConfig } from './config';
import { TiTok, type TiTokOptions } from './titok';

export interface LoadTiTokOptions extends OpenModelOptions, Omit<TiTokOptions, 'officialConfig' | 'seed' | 'init'> {}

/**
 * Loads a TiTok checkpoint laid out as the official Hugging Face repos (`config.json` +
 * `model.safetensors`) from any source core's I/O layer reads: a folder, a URL prefix, `hf:owner/name`,
 * a map of files, a browser FileList. The config's `${...}` references are resolved and the official
 * defaults applied; weights that do not match the model throw one StateDictError naming every
 * offending tensor, before any is read.
 */
export async function loadTiTok(source: ModelSource, options: LoadTiTokOptions = {}): Promise<TiTok> {
  return loadModel(source, options, {
    name: 'TiTok',
    build(opened) {
      if (opened.config === undefined) {
        throw new ConfigError(`${opened.files.name} has no config.json (expected the official layout: config.json + model.safetensors)`);
      }
      const official = opened.config as OfficialConfig;
      return new TiTok(parseOfficialConfig(official), { maxBatch: options.maxBatch, maxPixelBatch: options.maxPixelBatch, officialConfig: official, seed: 0, init: 'none' });
    },
  });
}

/**
 * Saves a TiTok in the official layout: `config.json` (its official config tree, indented as the
 * official `_save_pretrained` writes it) and `model.safetensors` (F32, PyTorch names and layouts), so
 * `TiTok.from_pretrained(folder)` loads it. With a target folder (Node) it is written atomically;
 * without, the two files are returned.
 */
export async function saveTiTok(model: TiTok): Promise<SavedModelFiles>;
export async function saveTiTok(model: TiTok, target: string | URL): Promise<void>;
export async function saveTiTok(model: TiTok, target?: string | URL): Promise<SavedModelFiles | void> {
  return saveModel(target, { config: model.officialConfig, tensors: torchStateDictEntries(model), indent: 4 });
}
