/**
 * Loading and saving Open-MAGVIT2 tokenizers.
 *
 * A source holds `config.json` (Open-MAGVIT2's YAML config as JSON) and the weights: `model.safetensors`
 * (ours, or converted), or a released PyTorch checkpoint (`*.ckpt`, also `.pt` / `.pth` / `.bin`),
 * read by @vtok/core's safe unpickler. Saving writes `config.json` + `model.safetensors` with the
 * official key names and PyTorch layouts, so the weights round-trip to PyTorch; the safetensors metadata
 * carries the config too.
 */
import { ConfigError, loadModel, type ModelSource, type OpenModelOptions, saveModel, type SavedModelFiles, torchStateDictEntries } from '@vtok/core';
import { type Magvit2ConfigOverrides, magvit2ConfigToJson, parseMagvit2Config } from './config';
import { type Magvit2Part, Magvit2Model } from './model';
import { type Magvit2PresetName, magvit2Preset } from './presets';
import { Magvit2Tokenizer } from './tokenizer';
import { openMagvit2KeyMap } from './weights';

export interface LoadMagvit2Options extends OpenModelOptions, Magvit2ConfigOverrides {
  /** Build and load only these halves (default both). Keys of the other half are ignored. */
  parts?: readonly Magvit2Part[];
  /** Use the checkpoint's EMA weights (`model_ema.*`) where it has them. Default true (upstream evaluates with them). */
  preferEma?: boolean;
}

export interface CreateMagvit2Options extends Magvit2ConfigOverrides {
  parts?: readonly Magvit2Part[];
  /** Seed of the random initialisation. */
  seed?: number;
  /**
   * Open-MAGVIT2 keeps PyTorch's default initialisation (it re-draws nothing), so 'official' (default)
   * and 'none' give the same weights; the switch exists so every model package takes the same options.
   */
  init?: 'official' | 'none';
}

/** Where files saved by earlier versions kept the config in the safetensors metadata. */
const LEGACY_METADATA_CONFIG = 'vtok_magvit2_config';

/**
 * Loads an Open-MAGVIT2 tokenizer from any source core's I/O layer reads (folder, URL prefix, `hf:` id,
 * map of files, FileList): `config.json` (Open-MAGVIT2's YAML config as JSON) and the weights,
 * `model.safetensors` or a released PyTorch checkpoint (`*.ckpt`; recognised by content, read by
 * core's safe reader). Mismatching weights throw one StateDictError that lists every missing,
 * unexpected and mis-shaped tensor.
 */
export async function loadMagvit2(source: ModelSource, options: LoadMagvit2Options = {}): Promise<Magvit2Tokenizer> {
  const model = await loadModel(source, options, {
    name: 'MAGVIT-v2',
    build(opened) {
      const legacy = opened.weights.metadata[LEGACY_METADATA_CONFIG];
      const json = opened.config ?? (legacy !== undefined ? JSON.parse(legacy) : undefined);
      if (json === undefined) throw new ConfigError(`${opened.files.name} has no config.json (and ${opened.weights.where} carries no config)`);
      return new Magvit2Model(parseMagvit2Config(json, options), { parts: options.parts, seed: 0 });
    },
    keys: (m, opened) => openMagvit2KeyMap(m, opened.weights.entries, m.parts, options.preferEma ?? true),
  });
  return new Magvit2Tokenizer(model);
}

/** A tokenizer with random weights (PyTorch's default init), from a preset name or an Open-MAGVIT2 config. */
export function createMagvit2(config: Magvit2PresetName | (string & {}) | Record<string, unknown>, options: CreateMagvit2Options = {}): Magvit2Tokenizer {
  const json = typeof config === 'string' ? magvit2Preset(config).config : config;
  const parsed = parseMagvit2Config(json, options);
  return new Magvit2Tokenizer(new Magvit2Model(parsed, { parts: options.parts, seed: options.seed }));
}

function modelOf(target: Magvit2Tokenizer | Magvit2Model): Magvit2Model {
  return target instanceof Magvit2Tokenizer ? target.model : target;
}

/**
 * Saves a tokenizer as `config.json` (Open-MAGVIT2's config) + `model.safetensors` (official names,
 * PyTorch layouts; the config also in its metadata), so the weights round-trip to PyTorch. With a
 * target folder (Node; created if missing) it is written atomically; without, the files are returned.
 */
export async function saveMagvit2(target: Magvit2Tokenizer | Magvit2Model): Promise<SavedModelFiles>;
export async function saveMagvit2(target: Magvit2Tokenizer | Magvit2Model, folder: string | URL): Promise<void>;
export async function saveMagvit2(target: Magvit2Tokenizer | Magvit2Model, folder?: string | URL): Promise<SavedModelFiles | void> {
  const model = modelOf(target);
  return saveModel(folder, { config: magvit2ConfigToJson(model.config), tensors: torchStateDictEntries(model) });
}
