/**
 * Loading and saving generators in the layout of the official Hugging Face repos
 * (`yucornetto/generator_titok_{l32,b64,s128}_imagenet`: `config.json` + `model.safetensors`), or the
 * PyTorch pickles of `fun-research/TiTok` (`generator_titok_*.bin`, same key names, read by core's safe
 * reader). Sources, caching, progress and atomic saves are core's I/O layer.
 */
import { ConfigError, loadModel, type ModelSource, type OpenModelOptions, saveModel, type SavedModelFiles, torchStateDictEntries } from '@vtok/core';
import { type MaskGITConfig, resolveMaskGITConfig } from './config';
import { type MaskGITConfigSpec, configFromSpec, createMaskGIT } from './create';
import type { MaskGITGenerator } from './generator';
import { type JsonObject, fromOfficialConfig, isOfficialConfig, toOfficialConfig } from './official-config';

export interface LoadMaskGITOptions extends OpenModelOptions {
  /**
   * The config, when the source has none or to override it: a vtok config, a preset name
   * ('titok-l-32', ...) or an official config object.
   */
  config?: MaskGITConfigSpec | JsonObject;
}

/** State-dict entries that official checkpoints may hold and that are not parameters (older transformers' buffer). */
const IGNORED_KEYS = /(^|\.)embeddings\.position_ids$/;

function resolveLoadConfig(options: LoadMaskGITOptions, fileConfig: unknown, where: string | undefined, name: string): { config: MaskGITConfig; official?: JsonObject } {
  const fromValue = (value: unknown, where: string) => {
    if (isOfficialConfig(value)) return { config: fromOfficialConfig(value), official: value };
    if (typeof value === 'string' || (value && typeof value === 'object')) return { config: resolveMaskGITConfig(configFromSpec(value as MaskGITConfigSpec)) };
    throw new ConfigError(`${where} is not a MaskGIT config: ${String(value)}`);
  };
  if (options.config !== undefined) return fromValue(options.config, 'options.config');
  if (fileConfig !== undefined) return fromValue(fileConfig, where ?? 'config.json');
  throw new ConfigError(`no config found for ${name}: put config.json next to it, or pass options.config (e.g. 'titok-l-32' or an official config object)`);
}

/**
 * Loads a generator (ImageBert or UViTBert, as the config's `model_type` says) from any source core's
 * I/O layer reads. Every missing, unexpected or mis-shaped tensor is reported together in one
 * StateDictError, before any is read.
 */
export async function loadMaskGIT(source: ModelSource, options: LoadMaskGITOptions = {}): Promise<MaskGITGenerator> {
  return loadModel(source, options, {
    name: 'MaskGIT',
    build(opened) {
      const { config, official } = resolveLoadConfig(options, opened.config, opened.configWhere, opened.files.name);
      const model = createMaskGIT(config, { init: 'none' });
      if (official) model.sourceConfig = official;
      return model;
    },
    keys: () => ({ keyOf: (name) => (IGNORED_KEYS.test(name) ? null : name) }),
  });
}

/**
 * Saves a generator as `config.json` (the official config tree) + `model.safetensors` (official names;
 * the config also in its metadata), the layout of the official repos, so both vtok and the official
 * `from_pretrained` load it. With a target folder (Node) it is written atomically; without, the two
 * files are returned.
 */
export async function saveMaskGIT(model: MaskGITGenerator): Promise<SavedModelFiles>;
export async function saveMaskGIT(model: MaskGITGenerator, target: string | URL): Promise<void>;
export async function saveMaskGIT(model: MaskGITGenerator, target?: string | URL): Promise<SavedModelFiles | void> {
  return saveModel(target, { config: toOfficialConfig(model.config, model.sourceConfig), tensors: torchStateDictEntries(model), indent: 4 });
}
