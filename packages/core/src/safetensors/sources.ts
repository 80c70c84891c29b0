/**
 * One safetensors file from bytes, a path (Node) or a URL, through core's I/O layer (remote files go
 * through its cache and report progress), and an atomic single-file save.
 */
import { ConfigError, FileNotFoundError, SafetensorsError, SaveError } from '../errors';
import { isHttpUrl, isNode, nodeModule, nodePath } from '../io/env';
import { openLocalFile, type OpenedFile } from '../io/file';
import { saveFile } from '../io/save';
import { type LoadOptions, openRemoteFile } from '../io/sources';
import { setOwn } from './header';
import { readSafetensors } from './read';
import { openSafetensorsStream } from './stream';
import type { RawTensor, ReadSafetensorsOptions, SafetensorsFile } from './types';
import type { WritableTensor } from './write';

/** Anything that can be read as one file: bytes, a path (Node), or a URL. */
export type SafetensorsSource = string | URL | Uint8Array | ArrayBuffer;

export interface LoadSafetensorsOptions extends ReadSafetensorsOptions, Pick<LoadOptions, 'fetch' | 'signal' | 'onProgress' | 'cache' | 'cacheDir' | 'allowRemote'> {
  /**
   * Files (Node paths) larger than this many bytes are read tensor by tensor instead of into one buffer.
   * Default: 2 GiB − 1, the largest file `fs.readFile` can return.
   */
  streamAboveBytes?: number;
}

const baseName = (s: string) => s.slice(s.lastIndexOf('/') + 1) || s;

/**
 * Opens one file: a URL (http(s), or relative to the page outside Node) through the I/O layer's
 * cache and download checks; in Node a path or `file:` URL. A missing file is a FileNotFoundError.
 */
export async function openSingleFile(source: string | URL, options: LoadSafetensorsOptions = {}): Promise<OpenedFile> {
  let path: string | undefined;
  let url: string | undefined;
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) path = (await nodeModule<typeof import('node:url')>('node:url')).fileURLToPath(source);
    else url = source.href;
  } else if (typeof source === 'string') {
    if (isHttpUrl(source)) url = source;
    else if (!isNode()) url = new URL(source, (globalThis as { location?: { href: string } }).location?.href).href;
    else if (source.startsWith('file:')) path = (await nodeModule<typeof import('node:url')>('node:url')).fileURLToPath(source);
    else path = source;
  } else {
    throw new ConfigError(`cannot load a file from ${source === null ? 'null' : typeof source}; expected a path, URL, Uint8Array or ArrayBuffer`);
  }
  if (url !== undefined) {
    const file = baseName(url.split(/[?#]/)[0]);
    const opened = await openRemoteFile(url, file, url, options);
    if (!opened) throw new FileNotFoundError(file, url, 'HTTP 404');
    return opened;
  }
  const opened = await openLocalFile(path!);
  if (!opened) throw new FileNotFoundError(baseName(path!), (await nodePath()).resolve(path!), 'no such file');
  return opened;
}

/** The bytes of a source: bytes are returned as they are; paths and URLs are read (see `openSingleFile`). */
export async function loadSafetensorsBytes(source: SafetensorsSource, options: LoadSafetensorsOptions = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const opened = await openSingleFile(source, options);
  try {
    return await opened.bytes();
  } finally {
    await opened.close();
  }
}

/** Node's largest Buffer (fs.readFile refuses bigger files): 2 GiB − 1 on the Node versions we support. */
const MAX_READ_FILE_BYTES = 2 ** 31 - 1;

/**
 * Loads and reads a safetensors file from bytes, a file path (Node) or a URL. Files over 2 GiB (beyond
 * Node's Buffer limit) are read tensor by tensor.
 */
export async function loadSafetensors(source: SafetensorsSource, options: LoadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return readSafetensors(await loadSafetensorsBytes(source), options);
  const opened = await openSingleFile(source, options);
  try {
    if (opened.size === undefined || opened.size <= (options.streamAboveBytes ?? MAX_READ_FILE_BYTES)) return readSafetensors(await opened.bytes(), options);
    const stream = await openSafetensorsStream(opened.read, { where: opened.where, totalBytes: opened.size, maxHeaderBytes: options.maxHeaderBytes });
    const tensors: Record<string, RawTensor> = {};
    await stream.forEach((info, tensor) => setOwn(tensors, info.name, tensor));
    return { tensors, metadata: stream.header.metadata };
  } finally {
    await opened.close();
  }
}

/**
 * Writes tensors to a safetensors file (Node), streamed tensor by tensor through core's atomic `saveFile`:
 * a crash leaves either the old file or the complete new one, never a partial checkpoint. A malformed
 * tensor is the SafetensorsError the writer raised; other failures are a SaveError.
 */
export async function saveSafetensorsFile(path: string | URL, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
  try {
    await saveFile(path instanceof URL ? fileURLToPath(path) : path, { tensors, metadata });
  } catch (error) {
    throw error instanceof SaveError && error.cause instanceof SafetensorsError ? error.cause : error;
  }
}
