/**
 * Where a model's files come from, all behind one interface (`ModelFiles`): a local folder or file
 * (Node), a URL or URL prefix, a hub id `hf:owner/name[@revision]`, a map of files (name → bytes, text,
 * Blob, URL or parsed JSON), a browser `File` / `FileList` (a folder the user picked), or the bytes of
 * one weights file. Remote files go through the cache and report download progress.
 */
import { ConfigError, DownloadError, FileNotFoundError } from '../errors';
import type { LoadProgressEvent } from '../progress';
import { defaultCache, type FileCache } from './cache';
import { download, type FetchLike, memorySink } from './download';
import { isHttpUrl, isNode, nodeFs, nodeModule, nodePath } from './env';
import { fileFromBlob, fileFromBytes, openLocalFile, type OpenedFile } from './file';
import { hubPrefix, isHubId, parseHubId } from './hub';
import { readableFolder } from './save';

/** One file of a map source. */
export type FileEntry = Uint8Array | ArrayBuffer | string | Blob | URL | Record<string, unknown>;

/** Anything a model can be loaded from. */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Blob | FileList | readonly File[] | Readonly<Record<string, FileEntry>>;

/** Options every `loadX` takes (the model packages add their own). */
export interface LoadOptions {
  /** Progress events (transformers.js' shape): initiate, download, progress, done per file; ready at the end. */
  onProgress?: (event: LoadProgressEvent) => void;
  /** Stops a load (and its downloads); the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** The fetch used for remote files. Default: globalThis.fetch. */
  fetch?: FetchLike;
  /** Keep remote files in the cache (default true), or the cache to use. */
  cache?: boolean | FileCache;
  /** Node: the cache folder. Default `VTOK_CACHE_DIR`, else the user's cache folder + `vtok`. */
  cacheDir?: string;
  /** false: offline, remote files come from the cache only; a file not there is a FileNotFoundError. Default true. */
  allowRemote?: boolean;
  /** The hub for `hf:` ids. Default `VTOK_HUB_ENDPOINT`, else https://huggingface.co. */
  hubEndpoint?: string;
  /** The hub revision (branch, tag or commit) when the id names none. Default `main`. */
  revision?: string;
  /** Name of the weights file inside the source; default `model.safetensors`, else the one weights file there. */
  weights?: string;
}

/** The files of one source, by name. */
export interface ModelFiles {
  /** The source as the user named it: shown in progress events and errors. */
  readonly name: string;
  /** The file the source points at, when it is one file (a path, URL or bytes of a weights file). */
  readonly pinned?: string;
  /** File names, where the source can list them (folders, maps, file lists; not URLs). */
  list(): Promise<string[] | undefined>;
  /** Opens a file; undefined when the source has no such file (no file, HTTP 404, no map entry). */
  open(file: string): Promise<OpenedFile | undefined>;
  /** Where `file` is or would be: a path or URL, for messages. */
  where(file: string): string;
}

export const WEIGHT_FILE_PATTERN = /\.(safetensors|bin|pt|pth|ckpt)$/i;

const isFileList = (s: unknown): s is FileList | readonly File[] =>
  (typeof FileList !== 'undefined' && s instanceof FileList) || (Array.isArray(s) && s.every((f) => typeof Blob !== 'undefined' && f instanceof Blob));
const isBlob = (s: unknown): s is Blob => typeof Blob !== 'undefined' && s instanceof Blob;

function emit(options: LoadOptions, event: LoadProgressEvent): void {
  options.onProgress?.(event);
}

/** Opens a local or in-memory file with `initiate` / `done` around it. */
async function traced(options: LoadOptions, name: string, file: string, open: () => Promise<OpenedFile | undefined>): Promise<OpenedFile | undefined> {
  emit(options, { type: 'load', status: 'initiate', name, file });
  const opened = await open();
  if (opened) emit(options, { type: 'load', status: 'done', name, file });
  return opened;
}

async function cacheFor(options: LoadOptions): Promise<FileCache | undefined> {
  if (options.cache === false) return undefined;
  if (options.cache && options.cache !== true) return options.cache;
  return defaultCache(options.cacheDir);
}

/**
 * A remote file: from the cache when it is there, else downloaded (into the cache, or memory when
 * caching is off). Offline (`allowRemote: false`) a file not in the cache is a FileNotFoundError.
 * Returns undefined on HTTP 404.
 */
export async function openRemoteFile(url: string, file: string, name: string, options: LoadOptions): Promise<OpenedFile | undefined> {
  emit(options, { type: 'load', status: 'initiate', name, file });
  const cache = await cacheFor(options);
  const cached = await cache?.get(url);
  if (cached) {
    emit(options, { type: 'load', status: 'done', name, file });
    return cached;
  }
  if (options.allowRemote === false) {
    const looked = cache ? await cache.entryLocation(url) : undefined;
    throw new FileNotFoundError(file, url, `offline (allowRemote: false) and not in the cache${looked ? `; looked for ${looked}` : ': caching is off'}`, looked);
  }
  const sink = cache ? await cache.begin(url) : memorySink();
  let opened: OpenedFile | undefined;
  try {
    await download(url, file, sink, {
      fetch: options.fetch,
      signal: options.signal,
      onStart: () => emit(options, { type: 'load', status: 'download', name, file }),
      onProgress: (loaded, total) =>
        emit(options, { type: 'load', status: 'progress', name, file, loaded, total, progress: total ? (100 * loaded) / total : undefined }),
    });
    opened = cache ? await cache.get(url) : fileFromBytes((sink as ReturnType<typeof memorySink>).bytes(), url);
    if (!opened) throw new DownloadError(url, `the file vanished from the cache (${cache?.location}) right after it was written`);
  } catch (error) {
    if (error instanceof FileNotFoundError && error.where === url) return undefined;
    throw error;
  }
  emit(options, { type: 'load', status: 'done', name, file });
  return opened;
}

function urlFiles(prefix: string, name: string, options: LoadOptions, pinned?: string): ModelFiles {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    name,
    pinned,
    list: async () => undefined,
    where: (file) => base + file,
    open: (file) => openRemoteFile(base + file, file, name, options),
  };
}

async function folderFiles(folder: string, name: string, options: LoadOptions, pinned?: string): Promise<ModelFiles> {
  const path = await nodePath();
  const readable = await readableFolder(folder);
  if (readable === undefined) throw new FileNotFoundError(path.basename(folder), path.resolve(folder), 'no such file or folder');
  return {
    name,
    pinned,
    where: (file) => path.join(folder, file),
    async list() {
      try {
        return await (await nodeFs()).readdir(readable);
      } catch (error) {
        throw new FileNotFoundError(path.basename(folder), folder, `cannot list the folder: ${(error as Error).message}`);
      }
    },
    open: (file) => traced(options, name, file, () => openLocalFile(path.join(readable, file))),
  };
}

function entryFile(entry: FileEntry, file: string, name: string, options: LoadOptions): Promise<OpenedFile | undefined> {
  if (entry instanceof URL) return openRemoteFile(entry.href, file, name, options);
  return traced(options, name, file, async () => {
    const where = `${file} (in ${name})`;
    if (entry instanceof Uint8Array) return fileFromBytes(entry, where);
    if (entry instanceof ArrayBuffer) return fileFromBytes(new Uint8Array(entry), where);
    if (typeof entry === 'string') return fileFromBytes(new TextEncoder().encode(entry), where);
    if (isBlob(entry)) return fileFromBlob(entry, where);
    return fileFromBytes(new TextEncoder().encode(JSON.stringify(entry)), where);
  });
}

function mapFiles(files: Readonly<Record<string, FileEntry>>, name: string, options: LoadOptions, pinned?: string): ModelFiles {
  const has = (file: string) => Object.prototype.hasOwnProperty.call(files, file);
  return {
    name,
    pinned,
    list: async () => Object.keys(files),
    where: (file) => `${file} (in ${name})`,
    open: async (file) => (has(file) ? entryFile(files[file], file, name, options) : undefined),
  };
}

const baseName = (s: string) => s.slice(s.replace(/\/+$/, '').lastIndexOf('/') + 1);

/** A source as ModelFiles. Strings: `hf:` ids, http(s) URLs, `file:` URLs, else (Node) paths or (browser) URLs relative to the page. */
export async function modelFiles(source: ModelSource, options: LoadOptions = {}): Promise<ModelFiles> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return mapFiles({ weights: source }, 'the weights bytes', options, 'weights');
  if (isFileList(source)) {
    const files: Record<string, FileEntry> = {};
    for (const f of Array.from(source as ArrayLike<File>)) files[baseName(f.name)] = f;
    const names = Object.keys(files);
    return mapFiles(files, `files {${names.join(', ')}}`, options, names.length === 1 ? names[0] : undefined);
  }
  if (isBlob(source)) {
    const file = (source as File).name ? baseName((source as File).name) : 'weights';
    return mapFiles({ [file]: source }, file, options, file);
  }
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) {
      const { fileURLToPath } = await nodeModule<typeof import('node:url')>('node:url');
      return modelFiles(fileURLToPath(source), options);
    }
    return modelFiles(source.href, options);
  }
  if (typeof source === 'string') {
    if (isHubId(source)) {
      const id = parseHubId(source, options.revision);
      return urlFiles(hubPrefix(id, options.hubEndpoint), source, options);
    }
    if (source.startsWith('file:') && isNode()) return modelFiles(new URL(source), options);
    if (isHttpUrl(source) || !isNode()) {
      const url = isHttpUrl(source) ? source : new URL(source, (globalThis as { location?: { href: string } }).location?.href).href;
      const clean = url.split(/[?#]/)[0];
      if (WEIGHT_FILE_PATTERN.test(clean)) return urlFiles(clean.slice(0, clean.lastIndexOf('/') + 1), source, options, baseName(clean));
      return urlFiles(url, source, options);
    }
    const fs = await nodeFs();
    const path = await nodePath();
    const stat = await fs.stat(source).catch(() => undefined);
    if (stat?.isFile()) return folderFiles(path.dirname(source), source, options, path.basename(source));
    if (!stat && WEIGHT_FILE_PATTERN.test(source)) throw new FileNotFoundError(path.basename(source), path.resolve(source), 'no such file');
    return folderFiles(source, source, options);
  }
  if (source && typeof source === 'object') return mapFiles(source as Record<string, FileEntry>, `files {${Object.keys(source).join(', ')}}`, options);
  throw new ConfigError(`cannot load a model from ${source === null ? 'null' : typeof source}: expected a folder or file path, a URL, an hf:owner/name id, a map of files, a File/FileList, or the bytes of a weights file`);
}
