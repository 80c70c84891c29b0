/**
 * Loading and saving Open-MAGVIT2 tokenizers.
 *
 * A source holds `config.json` (Open-MAGVIT2's YAML config as JSON) and the weights: `model.safetensors`
 * (ours, or converted), or a released PyTorch checkpoint (`*.ckpt`, also `.pt` / `.pth` / `.bin`),
 * read by @vtok/core's safe unpickler. Saving writes `config.json` + `model.safetensors` with the
 * official key names and PyTorch layouts, so the weights round-trip to PyTorch; the safetensors metadata
 * carries the config too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, readSafetensors, saveSafetensorsFile, type StateDict, toTensors, withoutRandomInit, writeSafetensors } from '@vtok/core';
import { type Magvit2ConfigOverrides, magvit2ConfigToJson, parseMagvit2Config } from './config';
import { type Magvit2Part, Magvit2Model } from './model';
import { type Magvit2PresetName, magvit2Preset } from './presets';
import { asBytes, asJson, fileReader, type FileReader, type Magvit2Source, nodeModule, type SourceOptions } from './sources';
import { Magvit2Tokenizer } from './tokenizer';
import { readTorchWeights } from './torch';
import { assignOpenMagvit2Weights, openMagvit2StateDict } from './weights';

export interface LoadMagvit2Options extends SourceOptions, Magvit2ConfigOverrides {
  /** Build and load only these halves (default both). Keys of the other half are ignored. */
  parts?: readonly Magvit2Part[];
  /** Use the checkpoint's EMA weights (`model_ema.*`) where it has them. Default true (upstream evaluates with them). */
  preferEma?: boolean;
  /** The weights file name inside the source; default `model.safetensors`, else the one PyTorch checkpoint there. */
  weights?: string;
  /** PyTorch checkpoints: what to do with a pickle global outside the allow-list (default 'refuse'). */
  unknownGlobals?: 'refuse' | 'opaque';
}

export interface CreateMagvit2Options extends Magvit2ConfigOverrides {
  parts?: readonly Magvit2Part[];
  /** Seed of the random initialisation. */
  seed?: number;
}

const TORCH_EXTENSIONS = ['.ckpt', '.pt', '.pth', '.bin'];
const METADATA_CONFIG = 'vtok_magvit2_config';

async function pickWeightsFile(reader: FileReader, requested?: string): Promise<string> {
  if (requested) return requested;
  const names = await reader.list();
  if (!names) return 'model.safetensors'; // URL prefix: cannot list; the default name or `weights`
  if (names.includes('model.safetensors')) return 'model.safetensors';
  const safetensors = names.filter((n) => n.endsWith('.safetensors'));
  const torch = names.filter((n) => TORCH_EXTENSIONS.some((e) => n.endsWith(e)));
  const candidates = safetensors.length === 1 ? safetensors : torch;
  if (candidates.length === 1) return candidates[0];
  throw new ConfigError(
    candidates.length === 0
      ? `no weights in ${reader.description}: expected model.safetensors or a PyTorch checkpoint (${TORCH_EXTENSIONS.join(', ')})`
      : `several weight files in ${reader.description} (${candidates.join(', ')}); name one with options.weights`,
  );
}

/** Reads the weights file as tf tensors by official key name (the caller disposes them). */
async function readWeights(reader: FileReader, name: string, options: LoadMagvit2Options): Promise<{ dict: StateDict; metadata: Record<string, string> }> {
  const content = await reader.read(name);
  if (content === undefined) throw new ConfigError(`${reader.description} has no weights file ${name}`);
  const bytes = asBytes(content, name);
  if (name.endsWith('.safetensors')) {
    const file = readSafetensors(bytes);
    return { dict: toTensors(file.tensors), metadata: file.metadata };
  }
  if (TORCH_EXTENSIONS.some((e) => name.endsWith(e))) {
    return { dict: readTorchWeights(bytes, { preferEma: options.preferEma ?? true, unknownGlobals: options.unknownGlobals }), metadata: {} };
  }
  throw new ConfigError(`weights file ${name}: unknown format (expected .safetensors or ${TORCH_EXTENSIONS.join(', ')})`);
}

/**
 * Loads an Open-MAGVIT2 tokenizer from a folder (Node), a URL prefix or a map of files. Returns the
 * Tokenizer for the config's input size (`imageSize` / `frames` override it). Mismatching weights
 * throw one StateDictError that lists every missing, unexpected and mis-shaped tensor.
 */
export async function loadMagvit2(source: Magvit2Source, options: LoadMagvit2Options = {}): Promise<Magvit2Tokenizer> {
  const reader = fileReader(source, options);
  // The config first, so a bad one fails before a large weights file is read.
  const configFile = await reader.read('config.json');
  const fromFile = configFile !== undefined ? parseMagvit2Config(asJson(configFile, 'config.json'), options) : undefined;
  const weightsName = await pickWeightsFile(reader, options.weights);
  const { dict, metadata } = await readWeights(reader, weightsName, options);
  let model: Magvit2Model | undefined;
  try {
    const config = fromFile ?? (metadata[METADATA_CONFIG] !== undefined ? parseMagvit2Config(metadata[METADATA_CONFIG], options) : undefined);
    if (!config) throw new ConfigError(`${reader.description} has no config.json (and ${weightsName} carries no config)`);
    // Every weight comes from the file: build without drawing random ones first.
    model = withoutRandomInit(() => new Magvit2Model(config, { parts: options.parts, seed: 0 }));
    assignOpenMagvit2Weights(model, dict, model.parts, { preferEma: options.preferEma, source: `${reader.description}: ${weightsName}` });
    return new Magvit2Tokenizer(model);
  } catch (error) {
    model?.dispose();
    throw error;
  } finally {
    tf.dispose(Object.values(dict));
  }
}

/** A tokenizer with random weights (PyTorch's default init), from a preset name or an Open-MAGVIT2 config. */
export function createMagvit2(config: Magvit2PresetName | Record<string, unknown>, options: CreateMagvit2Options = {}): Magvit2Tokenizer {
  const json = typeof config === 'string' ? magvit2Preset(config).config : config;
  const parsed = parseMagvit2Config(json, options);
  return new Magvit2Tokenizer(new Magvit2Model(parsed, { parts: options.parts, seed: options.seed }));
}

function modelOf(target: Magvit2Tokenizer | Magvit2Model): Magvit2Model {
  return target instanceof Magvit2Tokenizer ? target.model : target;
}

/** The files of a tokenizer: `config.json` (text) and `model.safetensors` (bytes), e.g. to serve or store. */
export async function serializeMagvit2(target: Magvit2Tokenizer | Magvit2Model): Promise<{ 'config.json': string; 'model.safetensors': Uint8Array }> {
  const model = modelOf(target);
  const config = JSON.stringify(magvit2ConfigToJson(model.config), null, 2);
  const dict = openMagvit2StateDict(model);
  try {
    const bytes = await writeSafetensors(dict, { format: 'pt', [METADATA_CONFIG]: config });
    return { 'config.json': `${config}\n`, 'model.safetensors': bytes };
  } finally {
    tf.dispose(Object.values(dict));
  }
}

/** Writes `config.json` and `model.safetensors` into `folder` (Node), which must exist. */
export async function saveMagvit2(target: Magvit2Tokenizer | Magvit2Model, folder: string): Promise<void> {
  const model = modelOf(target);
  const fs = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
  const { join } = await nodeModule<typeof import('node:path')>('node:path');
  const config = JSON.stringify(magvit2ConfigToJson(model.config), null, 2);
  const dict = openMagvit2StateDict(model);
  try {
    await saveSafetensorsFile(join(folder, 'model.safetensors'), dict, { format: 'pt', [METADATA_CONFIG]: config });
  } finally {
    tf.dispose(Object.values(dict));
  }
  await fs.writeFile(join(folder, 'config.json'), `${config}\n`);
}

