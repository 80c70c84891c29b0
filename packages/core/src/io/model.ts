/**
 * What every model package's `loadX` and `saveX` stand on: open a source's config and weights in one
 * call, and save a model as `config.json` + `model.safetensors` (the layout of the official Hugging
 * Face repos) atomically, or return those files for a browser to keep.
 */
import { AbortError, ConfigError, FileNotFoundError } from '../errors';
import { withoutRandomInit } from '../layers/init';
import type { Module } from '../module';
import { writeSafetensors, type WritableTensor } from '../safetensors/write';
import { readJsonFile } from './config';
import { isNode, nodeModule } from './env';
import { saveFolder } from './save';
import { type LoadOptions, modelFiles, type ModelFiles, type ModelSource, WEIGHT_FILE_PATTERN } from './sources';
import { loadWeightsInto, type LoadWeightsOptions } from './state-dict';
import { openWeights, type OpenWeightsOptions, type WeightsFile } from './weights';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** safetensors metadata key under which `saveModel` also stores the config, so the weights file alone is enough. */
export const CONFIG_METADATA_KEY = 'config';

export interface OpenModelOptions extends LoadOptions, OpenWeightsOptions {
  /** The config file's name (default `config.json`); false when the source has none to read. */
  configFile?: string | false;
}

export interface OpenedModel {
  readonly files: ModelFiles;
  /** The config file's JSON as written (references unresolved); else the one in the weights' metadata; else undefined. */
  readonly config: unknown;
  /** Where the config came from, for messages. */
  readonly configWhere: string | undefined;
  readonly weights: WeightsFile;
  /** Emits the `ready` progress event; call once the model is built. */
  ready(model: string): void;
  close(): Promise<void>;
}

const TORCH_EXTENSIONS = ['.bin', '.pt', '.pth', '.ckpt'];

/** The weights file of a source: the one named, the one the source points at, `model.safetensors`, or the only weights file there. */
async function pickWeightsFile(files: ModelFiles, requested: string | undefined): Promise<string> {
  if (requested) return requested;
  if (files.pinned) return files.pinned;
  const names = await files.list();
  if (!names || names.includes(WEIGHTS_FILE)) return WEIGHTS_FILE;
  const safetensors = names.filter((n) => n.toLowerCase().endsWith('.safetensors'));
  const torch = names.filter((n) => TORCH_EXTENSIONS.some((e) => n.toLowerCase().endsWith(e)));
  const candidates = safetensors.length ? safetensors : torch;
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    throw new FileNotFoundError(WEIGHTS_FILE, files.where(WEIGHTS_FILE), `no weights there: expected ${WEIGHTS_FILE}, another .safetensors file or a PyTorch checkpoint (${TORCH_EXTENSIONS.join(', ')}); it has ${names.length ? names.join(', ') : 'no files'}`);
  }
  throw new ConfigError(`${files.name} holds several weights files (${candidates.join(', ')}); name one with options.weights`);
}

const checkAbort = (options: LoadOptions, what: string) => {
  if (options.signal?.aborted) throw new AbortError(`loading ${what} was aborted`);
};

/** Opens a source's config (optional) and weights (required). Close the result when done. */
export async function openModel(source: ModelSource, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const files = await modelFiles(source, options);
  checkAbort(options, files.name);
  const configName = options.configFile === undefined ? CONFIG_FILE : options.configFile;
  let config: unknown;
  let configWhere: string | undefined;
  if (configName !== false && !(files.pinned && WEIGHT_FILE_PATTERN.test(configName))) {
    const file = await files.open(configName);
    if (file) {
      configWhere = file.where;
      config = await readJsonFile(file);
    }
  }
  checkAbort(options, files.name);
  const weightsName = await pickWeightsFile(files, options.weights);
  const opened = await files.open(weightsName);
  if (!opened) throw new FileNotFoundError(weightsName, files.where(weightsName), `the weights of ${files.name}`);
  const weights = await openWeights(opened, options);
  if (config === undefined && weights.metadata[CONFIG_METADATA_KEY] !== undefined) {
    configWhere = `${weights.where} (metadata "${CONFIG_METADATA_KEY}")`;
    try {
      config = JSON.parse(weights.metadata[CONFIG_METADATA_KEY]);
    } catch (cause) {
      await weights.close();
      throw new ConfigError(`${configWhere} is not valid JSON: ${(cause as Error).message}`);
    }
  }
  return {
    files,
    config,
    configWhere,
    weights,
    ready: (model) => options.onProgress?.({ type: 'load', status: 'ready', name: files.name, model }),
    close: () => weights.close(),
  };
}

/** How a package builds its model from an opened source: the template `loadX` functions follow. */
export interface ModelLoader<M extends Module> {
  /** Names the model in the `ready` event. */
  name: string;
  /** Builds the model from the opened config (no weights yet: they are drawn as zeros, then loaded). */
  build(opened: OpenedModel): M;
  /** How file entries map onto the model's keys (default: the same names). */
  keys?(model: M, opened: OpenedModel): LoadWeightsOptions;
}

/**
 * Opens a source, builds the model from its config without drawing random weights, copies the weights
 * in (all problems in one StateDictError, before any is read), emits `ready`, and closes the source.
 * On any error the model is disposed and nothing is left allocated.
 */
export async function loadModel<M extends Module>(source: ModelSource, options: OpenModelOptions, loader: ModelLoader<M>): Promise<M> {
  const opened = await openModel(source, options);
  try {
    const model = withoutRandomInit(() => loader.build(opened));
    try {
      await loadWeightsInto(model, opened.weights, loader.keys?.(model, opened));
    } catch (error) {
      model.dispose();
      throw error;
    }
    opened.ready(loader.name);
    return model;
  } finally {
    await opened.close();
  }
}

/** A saved model's files, as `saveX(model)` returns them without a target. */
export type SavedModelFiles = {
  'config.json': string;
  'model.safetensors': Uint8Array;
};

export interface ModelToSave {
  /** The config tree written to `config.json` (and into the weights' metadata). */
  config: unknown;
  /** Tensors by PyTorch name and layout. */
  tensors: Record<string, WritableTensor>;
  /** More safetensors metadata (`format: pt` is always written). */
  metadata?: Record<string, string>;
  /** Indentation of `config.json` (the official `_save_pretrained` writes 4). Default 2. */
  indent?: number;
}

/**
 * Saves a model as `config.json` + `model.safetensors` into the folder `target` (Node; created if
 * missing, replaced atomically), or returns the two files when there is no target.
 */
export async function saveModel(target: string | URL | undefined, model: ModelToSave): Promise<SavedModelFiles | undefined> {
  const configText = `${JSON.stringify(model.config, null, model.indent ?? 2)}\n`;
  const metadata = { format: 'pt', ...model.metadata, [CONFIG_METADATA_KEY]: JSON.stringify(model.config) };
  if (target === undefined) return { [CONFIG_FILE]: configText, [WEIGHTS_FILE]: await writeSafetensors(model.tensors, metadata) };
  let folder = String(target);
  if (target instanceof URL) {
    if (target.protocol !== 'file:' || !isNode()) throw new ConfigError(`cannot save to ${target.href}: only folders (paths or file: URLs) can be written`);
    const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
    folder = fileURLToPath(target);
  }
  await saveFolder(folder, { [CONFIG_FILE]: configText, [WEIGHTS_FILE]: { tensors: model.tensors, metadata } });
  return undefined;
}
