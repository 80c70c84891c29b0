/**
 * Loading and saving TiTok in the layout of the official Hugging Face repos: a folder (or URL prefix)
 * with `config.json` (the OmegaConf tree) and `model.safetensors` (the PyTorch state dict, F32). Names
 * are the official ones; only conv kernels change layout (PyTorch OIHW ↔ our HWIO).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Conv2d,
  type LazyTensorInput,
  type Module,
  openSafetensorsStream,
  type ReadExactly,
  readExactlyFromBytes,
  readExactlyFromFile,
  readExactlyFromStream,
  type SafetensorsStream,
  saveSafetensorsFile,
  StateDictError,
  type StateDictProblems,
  withoutRandomInit,
  writeSafetensors,
} from '@vtok/core';
import { parseOfficialConfig, type OfficialConfig } from './config';
import { TiTok, type TiTokOptions } from './titok';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** Bytes, JSON text, or (config only) the parsed object. */
export type FileContent = Uint8Array | ArrayBuffer | string | Record<string, unknown>;

/**
 * Where a checkpoint is: a folder path (Node), a URL prefix (`https://…/`, or `hf:owner/repo` for the
 * Hugging Face hub's `resolve/main/`), or the files themselves by name.
 */
export type CheckpointSource = string | URL | Record<string, FileContent>;

export interface LoadOptions extends Omit<TiTokOptions, 'officialConfig' | 'seed' | 'initialize'> {
  /** The fetch used for URLs. Default: globalThis.fetch. */
  fetch?: (input: string, init?: { signal?: AbortSignal }) => Promise<Response>;
  signal?: AbortSignal;
}

type NodeFs = typeof import('node:fs/promises');
type NodePath = typeof import('node:path');
const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
// A variable specifier keeps browser bundlers from resolving Node built-ins.
const nodeModule = <T>(name: string): Promise<T> => import(/* @vite-ignore */ /* webpackIgnore: true */ name) as Promise<T>;

/** Names of the Conv2d kernels in a module tree (stored HWIO here, OIHW in PyTorch). */
function convKernelNames(model: Module): Set<string> {
  const names = new Set<string>();
  for (const [prefix, m] of model.namedModules()) if (m instanceof Conv2d) names.add(prefix ? `${prefix}.weight` : 'weight');
  return names;
}

const hwioToOihw = (s: readonly number[]): number[] => [s[3], s[2], s[0], s[1]];

/** The official (PyTorch) shape of every state-dict entry. */
export function officialShapes(model: Module): Map<string, number[]> {
  const convs = convKernelNames(model);
  const shapes = new Map<string, number[]>();
  for (const [name, v] of Object.entries(model.stateDict())) shapes.set(name, convs.has(name) ? hwioToOihw(v.shape) : [...v.shape]);
  return shapes;
}

/**
 * Copies an official state dict from `reader` into `model`. Every name and shape is checked against the
 * header first and all problems are reported in one StateDictError, before any data is read; then
 * tensors stream in one at a time (conv kernels transposed OIHW → HWIO). `ignore` drops keys on purpose.
 */
export async function loadOfficialStateDict(model: Module, reader: SafetensorsStream, where: string, ignore: (name: string) => boolean = () => false): Promise<void> {
  const expected = officialShapes(model);
  const problems: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
  const seen = new Set<string>();
  for (const e of reader.header.tensors) {
    if (ignore(e.name)) continue;
    const shape = expected.get(e.name);
    if (!shape) problems.unexpected.push(e.name);
    else if (shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i])) problems.mismatched.push({ name: e.name, expected: shape, got: e.shape });
    seen.add(e.name);
  }
  for (const name of expected.keys()) if (!seen.has(name)) problems.missing.push(name);
  if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) throw new StateDictError(problems, where);

  const convs = convKernelNames(model);
  const targets = model.stateDict();
  await reader.forEach((entry, raw) => {
    if (ignore(entry.name)) return;
    const target = targets[entry.name] as tf.Variable;
    tf.tidy(() => {
      let t: tf.Tensor = tf.tensor(raw.data, raw.shape, raw.dtype);
      if (t.dtype !== target.dtype) t = tf.cast(t, target.dtype);
      if (convs.has(entry.name)) t = tf.transpose(t, [2, 3, 1, 0]);
      target.assign(t);
    });
  });
}

async function readText(content: FileContent, name: string): Promise<OfficialConfig> {
  if (typeof content === 'object' && !(content instanceof Uint8Array) && !(content instanceof ArrayBuffer)) return content as OfficialConfig;
  const text = typeof content === 'string' ? content : new TextDecoder().decode(content instanceof ArrayBuffer ? new Uint8Array(content) : content);
  try {
    return JSON.parse(text) as OfficialConfig;
  } catch (cause) {
    throw new ConfigError(`${name} is not valid JSON: ${(cause as Error).message}`);
  }
}

interface OpenedCheckpoint {
  config: OfficialConfig;
  weights: ReadExactly;
  /** Size of the weights file when known (bytes, files), so its header is checked against it. */
  size?: number;
  where: string;
  close(): Promise<void>;
}

function urlPrefix(source: string | URL): string | undefined {
  const s = String(source);
  const hf = /^hf:(?:\/\/)?([^/]+\/[^/@]+)(?:@([^/]+))?\/?$/.exec(s);
  if (hf) return `https://huggingface.co/${hf[1]}/resolve/${hf[2] ?? 'main'}/`;
  if (/^(https?|blob|data):/i.test(s) || source instanceof URL || !isNode()) return s.endsWith('/') ? s : `${s}/`;
  return undefined;
}

async function openCheckpoint(source: CheckpointSource, options: LoadOptions): Promise<OpenedCheckpoint> {
  if (typeof source === 'object' && !(source instanceof URL)) {
    const config = source[CONFIG_FILE];
    const weights = source[WEIGHTS_FILE];
    const missing = [config === undefined && CONFIG_FILE, weights === undefined && WEIGHTS_FILE].filter(Boolean);
    if (missing.length) throw new ConfigError(`TiTok checkpoint: the file map lacks ${missing.join(' and ')} (it has: ${Object.keys(source).join(', ') || 'nothing'})`);
    if (!(weights instanceof Uint8Array) && !(weights instanceof ArrayBuffer)) throw new ConfigError(`TiTok checkpoint: ${WEIGHTS_FILE} must be bytes (Uint8Array or ArrayBuffer)`);
    const bytes = weights instanceof ArrayBuffer ? new Uint8Array(weights) : weights;
    return {
      config: await readText(config, CONFIG_FILE),
      weights: readExactlyFromBytes(bytes),
      size: bytes.byteLength,
      where: WEIGHTS_FILE,
      close: async () => undefined,
    };
  }
  if (source instanceof URL && source.protocol === 'file:' && isNode()) {
    const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
    return openCheckpoint(fileURLToPath(source), options);
  }
  const prefix = urlPrefix(source);
  if (prefix !== undefined) {
    const doFetch = options.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
    if (!doFetch) throw new ConfigError(`TiTok checkpoint: cannot fetch ${prefix}: no fetch here; pass options.fetch`);
    const get = async (file: string): Promise<Response> => {
      const response = await doFetch(prefix + file, options.signal ? { signal: options.signal } : undefined);
      if (!response.ok) throw new ConfigError(`TiTok checkpoint: fetching ${prefix + file} failed: HTTP ${response.status} ${response.statusText}`);
      return response;
    };
    const config = await readText(await (await get(CONFIG_FILE)).text(), prefix + CONFIG_FILE);
    const response = await get(WEIGHTS_FILE);
    if (!response.body) throw new ConfigError(`TiTok checkpoint: ${prefix + WEIGHTS_FILE} has no body`);
    const body = response.body;
    return { config, weights: readExactlyFromStream(body), where: prefix + WEIGHTS_FILE, close: async () => body.cancel().catch(() => undefined) };
  }
  const fs = await nodeModule<NodeFs>('node:fs/promises');
  const path = await nodeModule<NodePath>('node:path');
  const folder = String(source);
  let configText: string;
  try {
    configText = await fs.readFile(path.join(folder, CONFIG_FILE), 'utf8');
  } catch (cause) {
    throw new ConfigError(`TiTok checkpoint: cannot read ${path.join(folder, CONFIG_FILE)} (${(cause as Error).message}); expected a folder as the official Hugging Face repos have it (config.json + model.safetensors)`);
  }
  const weightsPath = path.join(folder, WEIGHTS_FILE);
  let handle: Awaited<ReturnType<NodeFs['open']>>;
  try {
    handle = await fs.open(weightsPath, 'r');
  } catch (cause) {
    throw new ConfigError(`TiTok checkpoint: cannot open ${weightsPath} (${(cause as Error).message})`);
  }
  return { config: await readText(configText, path.join(folder, CONFIG_FILE)), weights: readExactlyFromFile(handle), size: (await handle.stat()).size, where: weightsPath, close: () => handle.close() };
}

/**
 * Loads a TiTok checkpoint laid out as the official Hugging Face repos (`config.json` +
 * `model.safetensors`): from a folder (Node), a URL prefix (browser or Node; `hf:owner/repo` for the hub)
 * or a map of files. The config's `${...}` references are resolved and the official defaults applied;
 * a weights file that does not match the model throws one StateDictError naming every offending tensor.
 */
export async function loadTiTok(source: CheckpointSource, options: LoadOptions = {}): Promise<TiTok> {
  const opened = await openCheckpoint(source, options);
  try {
    const config = parseOfficialConfig(opened.config);
    const reader = await openSafetensorsStream(opened.weights, { where: opened.where, totalBytes: opened.size });
    const { fetch: _fetch, signal: _signal, ...modelOptions } = options;
    // Every weight comes from the file: build without drawing random ones first.
    const model = withoutRandomInit(() => new TiTok(config, { ...modelOptions, officialConfig: opened.config, seed: 0, initialize: false }));
    try {
      await loadOfficialStateDict(model, reader, opened.where);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  } finally {
    await opened.close();
  }
}

/** The two files of a checkpoint, as `saveTiTok` returns them without a target. */
export type TiTokFiles = {
  'config.json': string;
  'model.safetensors': Uint8Array;
};

/**
 * The state dict as writable entries in the official layout: conv kernels are transposed back to OIHW
 * one at a time, when written, so saving never holds a second copy of the model.
 */
function officialEntries(model: Module): Record<string, LazyTensorInput> {
  const convs = convKernelNames(model);
  const entries: Record<string, LazyTensorInput> = {};
  for (const [name, v] of Object.entries(model.stateDict())) {
    entries[name] = {
      dtype: v.dtype as 'float32' | 'int32',
      shape: convs.has(name) ? hwioToOihw(v.shape) : [...v.shape],
      read: async () => {
        if (!convs.has(name)) return (await v.data()) as Float32Array | Int32Array;
        const t = tf.transpose(v, [3, 2, 0, 1]);
        try {
          return (await t.data()) as Float32Array;
        } finally {
          t.dispose();
        }
      },
    };
  }
  return entries;
}

/**
 * Saves a TiTok in the official layout: `config.json` (its official config tree, indented as the
 * official `_save_pretrained` writes it) and `model.safetensors` (F32, PyTorch names and layouts, metadata
 * `format: pt`), so `TiTok.from_pretrained(folder)` loads it. With a folder (Node) the files are written
 * there (each to a temporary name, then renamed); without, they are returned.
 */
export async function saveTiTok(model: TiTok): Promise<TiTokFiles>;
export async function saveTiTok(model: TiTok, folder: string): Promise<void>;
export async function saveTiTok(model: TiTok, folder?: string): Promise<TiTokFiles | void> {
  const config = JSON.stringify(model.officialConfig, null, 4);
  const metadata = { format: 'pt' };
  const entries = officialEntries(model);
  if (folder === undefined) return { 'config.json': config, 'model.safetensors': await writeSafetensors(entries, metadata) };
  const fs = await nodeModule<NodeFs>('node:fs/promises');
  const path = await nodeModule<NodePath>('node:path');
  await fs.mkdir(folder, { recursive: true });
  // Each file goes to a temporary name, is flushed, then renamed: a crash never leaves half a checkpoint.
  await saveSafetensorsFile(path.join(folder, WEIGHTS_FILE), entries, metadata);
  const configPath = path.join(folder, CONFIG_FILE);
  const temporary = `${configPath}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    await fs.writeFile(temporary, config, { flag: 'wx' });
    await fs.rename(temporary, configPath);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

