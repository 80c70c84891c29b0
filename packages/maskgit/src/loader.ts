/**
 * Loading and saving generators in the layout of the official Hugging Face repos
 * (`yucornetto/generator_titok_{l32,b64,s128}_imagenet`: `config.json` + `model.safetensors`), from a
 * folder (Node), a URL prefix (fetch), a map of file names to contents, or a single weights file.
 * PyTorch pickles (`fun-research/TiTok`'s `generator_titok_*.bin`, same key names) are read by core's
 * safe checkpoint reader (tensors only, nothing executed) unless `readTorchStateDict` supplies another.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  AbortError,
  ConfigError,
  type LoadProgressEvent,
  type LoadSafetensorsOptions,
  type RawTensor,
  type StateDict,
  loadTorchStateDict,
  readSafetensors,
  saveSafetensorsFile,
  toTensors,
  withoutRandomInit,
  writeSafetensors,
} from '@vtok/core';
import { type MaskGITConfig, resolveMaskGITConfig } from './config';
import { type MaskGITConfigSpec, configFromSpec, createMaskGIT } from './create';
import type { MaskGITGenerator } from './generator';
import { type JsonObject, fromOfficialConfig, isOfficialConfig, toOfficialConfig } from './official-config';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** safetensors metadata key under which saveMaskGIT also stores the config, so the file alone is enough. */
export const CONFIG_METADATA_KEY = 'config';

/** File name → contents: bytes, or for `config.json` also its text or the parsed object. */
export type MaskGITFiles = Record<string, Uint8Array | ArrayBuffer | string | JsonObject>;

/**
 * A folder or weights file (Node path or `file:` URL), an http(s) URL of a folder (prefix) or of a
 * weights file, a map of files, or the bytes of a weights file (then pass `options.config`).
 */
export type MaskGITSource = string | URL | MaskGITFiles | Uint8Array | ArrayBuffer;

/**
 * Decodes a PyTorch checkpoint (zip or legacy pickle) into named tensors; plug a safe reader in here
 * (its shape is that of `loadTorchStateDict(bytes)`). Tensors it returns are freed after loading.
 */
export type TorchStateDictReader = (
  bytes: Uint8Array,
  name: string,
) => Record<string, RawTensor | tf.Tensor> | Promise<Record<string, RawTensor | tf.Tensor>>;

export interface LoadMaskGITOptions {
  /**
   * The config, when the source has none or to override it: a vtok config, a preset name
   * ('titok-l32', ...) or an official config object.
   */
  config?: MaskGITConfigSpec | JsonObject;
  /** Name of the weights file in a folder, prefix or map; default `model.safetensors`, else the only `.safetensors`/`.bin` there. */
  weights?: string;
  /** Reader for PyTorch `.bin`/`.pt` checkpoints; default: core's safe reader (`loadTorchStateDict`). */
  readTorchStateDict?: TorchStateDictReader;
  fetch?: LoadSafetensorsOptions['fetch'];
  signal?: AbortSignal;
  onProgress?: (event: LoadProgressEvent) => void;
}

/** State-dict entries that official checkpoints may hold and that are not parameters (older transformers' buffer). */
const IGNORED_KEYS = /(^|\.)embeddings\.position_ids$/;

interface Gathered {
  config?: unknown;
  weights: { name: string; bytes: Uint8Array };
}

type Fs = typeof import('node:fs/promises');
type NodeProcess = { versions?: { node?: string } };
const isNode = (): boolean => typeof (globalThis as { process?: NodeProcess }).process?.versions?.node === 'string';
// A variable specifier keeps browser bundlers from resolving Node built-ins.
const nodeModule = <T>(specifier: string): Promise<T> => import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
const isHttp = (s: string): boolean => /^https?:\/\//i.test(s);
const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt)$/i;

function toBytes(value: Uint8Array | ArrayBuffer): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

function parseConfigText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Which file of a listing holds the weights. */
function pickWeights(names: string[], requested: string | undefined, where: string): string {
  if (requested) {
    if (!names.includes(requested)) throw new ConfigError(`${where} has no weights file "${requested}" (files: ${names.join(', ') || 'none'})`);
    return requested;
  }
  if (names.includes(WEIGHTS_FILE)) return WEIGHTS_FILE;
  for (const ext of ['.safetensors', '.bin', '.pt', '.pth']) {
    const found = names.filter((n) => n.toLowerCase().endsWith(ext));
    if (found.length === 1) return found[0];
    if (found.length > 1) throw new ConfigError(`${where} holds several ${ext} files (${found.join(', ')}); pass options.weights to pick one`);
  }
  throw new ConfigError(`${where} holds no weights: expected ${WEIGHTS_FILE} (or one .safetensors/.bin file); files: ${names.join(', ') || 'none'}`);
}

async function fetchBytes(url: string, options: LoadMaskGITOptions, optional = false): Promise<Uint8Array | undefined> {
  const doFetch = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
  if (!doFetch) throw new ConfigError(`cannot fetch ${url}: no fetch is available here; pass options.fetch`);
  const response = await doFetch(url, options.signal ? { signal: options.signal } : undefined);
  if (!response.ok) {
    if (optional && response.status === 404) return undefined;
    throw new ConfigError(`fetching ${url} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function gatherFromMap(files: MaskGITFiles, options: LoadMaskGITOptions): Promise<Gathered> {
  const names = Object.keys(files);
  const weightsName = pickWeights(names.filter((n) => n !== CONFIG_FILE), options.weights, 'the file map');
  const weights = files[weightsName];
  if (!(weights instanceof Uint8Array) && !(weights instanceof ArrayBuffer)) {
    throw new ConfigError(`the file map's "${weightsName}" must be a Uint8Array or ArrayBuffer, got ${typeof weights}`);
  }
  const raw = files[CONFIG_FILE];
  let config: unknown;
  if (typeof raw === 'string') config = parseConfigText(raw, `the file map's ${CONFIG_FILE}`);
  else if (raw instanceof Uint8Array || raw instanceof ArrayBuffer) config = parseConfigText(new TextDecoder().decode(toBytes(raw)), `the file map's ${CONFIG_FILE}`);
  else config = raw;
  return { config, weights: { name: weightsName, bytes: toBytes(weights) } };
}

async function gatherFromPath(path: string, options: LoadMaskGITOptions): Promise<Gathered> {
  const fs = await nodeModule<Fs>('node:fs/promises');
  const { join, dirname, basename } = await nodeModule<typeof import('node:path')>('node:path');
  const stat = await fs.stat(path).catch(() => undefined);
  if (!stat) throw new ConfigError(`no such MaskGIT folder or file: ${path}`);
  const readConfig = async (file: string) => {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseConfigText(text, file);
  };
  if (stat.isDirectory()) {
    const names = (await fs.readdir(path)).filter((n) => n === CONFIG_FILE || WEIGHT_FILE.test(n));
    const weightsName = pickWeights(names.filter((n) => n !== CONFIG_FILE), options.weights, `folder ${path}`);
    const config = names.includes(CONFIG_FILE) ? await readConfig(join(path, CONFIG_FILE)) : undefined;
    const buffer = await fs.readFile(join(path, weightsName));
    return { config, weights: { name: weightsName, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) } };
  }
  const buffer = await fs.readFile(path);
  const config = options.config ? undefined : await readConfig(join(dirname(path), CONFIG_FILE));
  return { config, weights: { name: basename(path), bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) } };
}

async function gatherFromUrl(url: string, options: LoadMaskGITOptions): Promise<Gathered> {
  const clean = url.split(/[?#]/)[0];
  if (WEIGHT_FILE.test(clean)) {
    const bytes = (await fetchBytes(url, options))!;
    const config = options.config ? undefined : await fetchBytes(new URL(CONFIG_FILE, url).href, options, true);
    return {
      config: config ? parseConfigText(new TextDecoder().decode(config), new URL(CONFIG_FILE, url).href) : undefined,
      weights: { name: clean.slice(clean.lastIndexOf('/') + 1), bytes },
    };
  }
  const prefix = url.endsWith('/') ? url : `${url}/`;
  const configUrl = `${prefix}${CONFIG_FILE}`;
  const config = await fetchBytes(configUrl, options, true);
  const weightsName = options.weights ?? WEIGHTS_FILE;
  const bytes = (await fetchBytes(`${prefix}${weightsName}`, options))!;
  return { config: config ? parseConfigText(new TextDecoder().decode(config), configUrl) : undefined, weights: { name: weightsName, bytes } };
}

async function gather(source: MaskGITSource, options: LoadMaskGITOptions): Promise<Gathered> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return { weights: { name: 'weights', bytes: toBytes(source) } };
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) {
      const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
      return gatherFromPath(fileURLToPath(source), options);
    }
    return gatherFromUrl(source.href, options);
  }
  if (typeof source === 'string') {
    if (isHttp(source) || !isNode()) return gatherFromUrl(source, options);
    if (source.startsWith('file:')) return gather(new URL(source), options);
    return gatherFromPath(source, options);
  }
  if (source && typeof source === 'object') return gatherFromMap(source, options);
  throw new ConfigError(`loadMaskGIT: expected a folder, file, URL, file map or bytes, got ${String(source)}`);
}

/** PyTorch writes zip archives (since 1.6) or bare pickles (protocol 2+, first byte 0x80). */
export function isTorchCheckpoint(bytes: Uint8Array): boolean {
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const pickle = bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
  return zip || pickle;
}

async function decodeWeights(
  weights: Gathered['weights'],
  options: LoadMaskGITOptions,
): Promise<{ tensors: Record<string, RawTensor | tf.Tensor>; metadata: Record<string, string> }> {
  if (isTorchCheckpoint(weights.bytes)) {
    const read = options.readTorchStateDict ?? ((bytes: Uint8Array) => loadTorchStateDict(bytes));
    return { tensors: await read(weights.bytes, weights.name), metadata: {} };
  }
  const file = readSafetensors(weights.bytes);
  return { tensors: file.tensors, metadata: file.metadata };
}

function resolveLoadConfig(options: LoadMaskGITOptions, fileConfig: unknown, metadata: Record<string, string>, name: string): { config: MaskGITConfig; official?: JsonObject } {
  const fromValue = (value: unknown, where: string) => {
    if (isOfficialConfig(value)) return { config: fromOfficialConfig(value), official: value };
    if (typeof value === 'string' || (value && typeof value === 'object')) return { config: resolveMaskGITConfig(configFromSpec(value as MaskGITConfigSpec)) };
    throw new ConfigError(`${where} is not a MaskGIT config: ${String(value)}`);
  };
  if (options.config !== undefined) return fromValue(options.config, 'options.config');
  if (fileConfig !== undefined) return fromValue(fileConfig, CONFIG_FILE);
  const stored = metadata[CONFIG_METADATA_KEY];
  if (stored !== undefined) return fromValue(parseConfigText(stored, `${name} metadata "${CONFIG_METADATA_KEY}"`), `${name} metadata`);
  throw new ConfigError(`no config found for ${name}: put ${CONFIG_FILE} next to it, or pass options.config (e.g. 'titok-l32' or an official config object)`);
}

/**
 * Loads a generator: ImageBert or UViTBert as the config's `model_type` says. Every missing,
 * unexpected or mis-shaped tensor is reported together in one StateDictError.
 */
export async function loadMaskGIT(source: MaskGITSource, options: LoadMaskGITOptions = {}): Promise<MaskGITGenerator> {
  if (options.signal?.aborted) throw new AbortError('loading the MaskGIT generator was aborted');
  const gathered = await gather(source, options);
  options.onProgress?.({ type: 'load', loaded: gathered.weights.bytes.byteLength, total: gathered.weights.bytes.byteLength, file: gathered.weights.name });
  if (options.signal?.aborted) throw new AbortError('loading the MaskGIT generator was aborted');
  const { tensors: raw, metadata } = await decodeWeights(gathered.weights, options);
  const { config, official } = resolveLoadConfig(options, gathered.config, metadata, gathered.weights.name);
  // Every weight comes from the file: build without drawing random ones first.
  const model = withoutRandomInit(() => createMaskGIT(config, { init: 'none' }));
  const owned: tf.Tensor[] = [];
  try {
    const dict: StateDict = {};
    const toUpload: Record<string, RawTensor> = {};
    for (const [name, t] of Object.entries(raw)) {
      // Tensors a torch reader made are ours to free, used or not.
      if (t instanceof tf.Tensor) owned.push(t);
      if (IGNORED_KEYS.test(name)) continue;
      if (t instanceof tf.Tensor) dict[name] = t;
      else toUpload[name] = t;
    }
    const uploaded = toTensors(toUpload);
    owned.push(...Object.values(uploaded));
    Object.assign(dict, uploaded);
    model.loadStateDict(dict, { source: gathered.weights.name });
    if (official) model.sourceConfig = official;
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(owned);
  }
}

/** The official config.json content and the weights of `model`, as files (for browsers, or to store anywhere). */
export async function serializeMaskGIT(model: MaskGITGenerator): Promise<{ [CONFIG_FILE]: Uint8Array; [WEIGHTS_FILE]: Uint8Array }> {
  const official = toOfficialConfig(model.config, model.sourceConfig);
  const json = JSON.stringify(official, null, 4);
  const weights = await writeSafetensors(model.stateDict(), { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(official) });
  return { [CONFIG_FILE]: new TextEncoder().encode(json), [WEIGHTS_FILE]: weights };
}

/**
 * Writes `config.json` and `model.safetensors` into `folder` (Node; created if needed), the layout of
 * the official repos, so both vtok and the official `from_pretrained` load it. The config is also in
 * the safetensors metadata.
 */
export async function saveMaskGIT(model: MaskGITGenerator, folder: string | URL): Promise<void> {
  if (!isNode()) throw new ConfigError('saveMaskGIT writes files and needs Node; in a browser use serializeMaskGIT');
  const fs = await nodeModule<Fs>('node:fs/promises');
  const { join } = await nodeModule<typeof import('node:path')>('node:path');
  const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
  const dir = folder instanceof URL ? fileURLToPath(folder) : folder;
  await fs.mkdir(dir, { recursive: true });
  const official = toOfficialConfig(model.config, model.sourceConfig);
  await saveSafetensorsFile(join(dir, WEIGHTS_FILE), model.stateDict(), { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(official) });
  const configPath = join(dir, CONFIG_FILE);
  const temporary = `${configPath}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(official, null, 4));
  await fs.rename(temporary, configPath);
}
