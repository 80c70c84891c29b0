/**
 * Where safetensors bytes come from and go to: bytes as they are, a file (Node), or an http(s) URL
 * (fetch). Node modules are imported dynamically, only when a file is actually read or written, so a
 * browser bundle of this module neither needs nor tries to resolve them.
 */
import { SafetensorsError } from '../errors';
import { setOwn } from './header';
import { readSafetensors } from './read';
import { openSafetensorsStream, readExactlyFromFile } from './stream';
import type { RawTensor, ReadSafetensorsOptions, SafetensorsFile } from './types';
import { writeSafetensorsStream, type WritableTensor } from './write';

/** Anything that can be read as a safetensors file. */
export type SafetensorsSource = string | URL | Uint8Array | ArrayBuffer;

export interface LoadSafetensorsOptions extends ReadSafetensorsOptions {
  /** The fetch used for URLs (and, outside Node, for plain strings). Default: `globalThis.fetch`. */
  fetch?: (input: string | URL, init?: { signal?: AbortSignal }) => Promise<Response>;
  /** Aborts a fetch. */
  signal?: AbortSignal;
  /**
   * Files (Node paths) larger than this many bytes are read tensor by tensor instead of into one buffer.
   * Default: 2 GiB − 1, the largest file `fs.readFile` can return.
   */
  streamAboveBytes?: number;
}

type NodeProcess = { versions?: { node?: string }; pid?: number };
const nodeProcess = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process;

function isNode(): boolean {
  return typeof nodeProcess()?.versions?.node === 'string';
}

/**
 * Imports a Node built-in at run time. The specifier is not a literal, so bundlers for the browser
 * (esbuild, Vite, webpack) neither resolve nor bundle it; it is only ever called in Node.
 */
async function nodeModule<T>(specifier: string): Promise<T> {
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}
type Fs = typeof import('node:fs/promises');

function isHttp(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

async function fetchBytes(url: string | URL, options: LoadSafetensorsOptions): Promise<Uint8Array> {
  const doFetch = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
  if (!doFetch) throw new SafetensorsError(`cannot fetch ${String(url)}: no fetch is available here; pass options.fetch`);
  const response = await doFetch(url, options.signal ? { signal: options.signal } : undefined);
  if (!response.ok) {
    throw new SafetensorsError(`fetching ${String(url)} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function readFileBytes(path: string | URL): Promise<Uint8Array> {
  const fs = await nodeModule<Fs>('node:fs/promises');
  const buffer = await fs.readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * The bytes of a safetensors source: bytes are returned as they are; an http(s) URL (string or URL) is
 * fetched; in Node any other string, or a `file:` URL, is a file path; elsewhere a string is fetched
 * (relative to the page).
 */
export async function loadSafetensorsBytes(source: SafetensorsSource, options: LoadSafetensorsOptions = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) return readFileBytes(source);
    return fetchBytes(source, options);
  }
  if (typeof source === 'string') {
    if (isHttp(source) || !isNode()) return fetchBytes(source, options);
    return readFileBytes(source.startsWith('file:') ? new URL(source) : source);
  }
  throw new SafetensorsError(`cannot load safetensors from ${typeof source}; expected a path, URL, Uint8Array or ArrayBuffer`);
}

/** Node's largest Buffer (fs.readFile refuses bigger files): 2 GiB − 1 on the Node versions we support. */
const MAX_READ_FILE_BYTES = 2 ** 31 - 1;

const isFilePath = (source: SafetensorsSource): source is string | URL =>
  isNode() && ((source instanceof URL && source.protocol === 'file:') || (typeof source === 'string' && !isHttp(source)));

/** Reads a file of any size tensor by tensor (each tensor gets its own buffer). */
async function readLargeFile(path: string | URL, size: number, options: ReadSafetensorsOptions): Promise<SafetensorsFile> {
  const fs = await nodeModule<Fs>('node:fs/promises');
  const handle = await fs.open(path, 'r');
  try {
    const stream = await openSafetensorsStream(readExactlyFromFile(handle), { where: String(path), totalBytes: size, maxHeaderBytes: options.maxHeaderBytes });
    const tensors: Record<string, RawTensor> = {};
    await stream.forEach((info, tensor) => setOwn(tensors, info.name, tensor));
    return { tensors, metadata: stream.header.metadata };
  } finally {
    await handle.close();
  }
}

/**
 * Loads and reads a safetensors file from bytes, a file path (Node) or a URL. Files over 2 GiB (beyond
 * Node's Buffer limit) are read tensor by tensor.
 */
export async function loadSafetensors(source: SafetensorsSource, options: LoadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  if (isFilePath(source)) {
    const path = typeof source === 'string' && source.startsWith('file:') ? new URL(source) : source;
    const fs = await nodeModule<Fs>('node:fs/promises');
    const { size } = await fs.stat(path);
    if (size > (options.streamAboveBytes ?? MAX_READ_FILE_BYTES)) return readLargeFile(path, size, options);
  }
  return readSafetensors(await loadSafetensorsBytes(source, options), options);
}

/**
 * Writes tensors to a safetensors file (Node). The bytes go to a temporary file next to the target,
 * which is flushed to disk and then renamed over the target, so a crash leaves either the old file or
 * the complete new one, never a partial checkpoint.
 */
export async function saveSafetensorsFile(path: string | URL, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  const fs = await nodeModule<Fs>('node:fs/promises');
  const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
  const { dirname } = await nodeModule<typeof import('node:path')>('node:path');
  const target = path instanceof URL ? fileURLToPath(path) : path;
  const temporary = `${target}.${nodeProcess()?.pid ?? 0}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    const handle = await fs.open(temporary, 'wx');
    try {
      // Streamed tensor by tensor: no second copy of the model in memory, and no 2 GiB Buffer limit.
      await writeSafetensorsStream(tensors, metadata, async (bytes) => {
        let written = 0;
        while (written < bytes.byteLength) written += (await handle.write(bytes, written, bytes.byteLength - written)).bytesWritten;
      });
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  // Make the rename itself durable where directories can be synced (not on Windows).
  try {
    const dir = await fs.open(dirname(target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // best effort
  }
}
