/**
 * Where a tokenizer's files come from: a folder (Node), a URL prefix (fetch; also any non-path string
 * outside Node), or a map of file name -> content. Node built-ins are imported only when a folder is
 * actually read, so a browser bundle neither needs nor resolves them.
 */
import { ConfigError } from '@vtok/core';

/** Content of one file in a map source: bytes, text, or (for config.json) the parsed object. */
export type Magvit2FileContent = Uint8Array | ArrayBuffer | string | Record<string, unknown>;

export type Magvit2Source = string | URL | Readonly<Record<string, Magvit2FileContent>>;

export interface SourceOptions {
  /** The fetch used for URLs. Default: globalThis.fetch. */
  fetch?: (input: string | URL, init?: { signal?: AbortSignal }) => Promise<Response>;
  signal?: AbortSignal;
}

/** Reads files of one source by name; `undefined` when a file is not there. */
export interface FileReader {
  readonly description: string;
  read(name: string): Promise<Magvit2FileContent | undefined>;
  /** File names, where the source can list them (folders and maps; not URLs). */
  list(): Promise<string[] | undefined>;
}

type NodeProcess = { versions?: { node?: string } };
const isNode = () => typeof (globalThis as { process?: NodeProcess }).process?.versions?.node === 'string';
const isHttp = (s: string) => /^https?:\/\//i.test(s);

/** Imports a Node built-in at run time (a non-literal specifier, so browser bundlers leave it alone). */
export async function nodeModule<T>(specifier: string): Promise<T> {
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}

function folderReader(folder: string): FileReader {
  return {
    description: `folder ${folder}`,
    async read(name) {
      const fs = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
      const { join } = await nodeModule<typeof import('node:path')>('node:path');
      try {
        const b = await fs.readFile(join(folder, name));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async list() {
      const fs = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
      try {
        return await fs.readdir(folder);
      } catch (error) {
        throw new ConfigError(`cannot read the MAGVIT-v2 folder ${folder}: ${(error as Error).message}`);
      }
    },
  };
}

function urlReader(prefix: string, options: SourceOptions): FileReader {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    description: `URL ${base}`,
    async read(name) {
      const doFetch = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
      if (!doFetch) throw new ConfigError(`cannot fetch ${base}${name}: no fetch is available here; pass options.fetch`);
      const response = await doFetch(`${base}${name}`, options.signal ? { signal: options.signal } : undefined);
      if (response.status === 404) return undefined;
      if (!response.ok) throw new ConfigError(`fetching ${base}${name} failed: HTTP ${response.status} ${response.statusText}`.trim());
      return new Uint8Array(await response.arrayBuffer());
    },
    async list() {
      return undefined;
    },
  };
}

function mapReader(files: Readonly<Record<string, Magvit2FileContent>>): FileReader {
  return {
    description: `files {${Object.keys(files).join(', ')}}`,
    async read(name) {
      return Object.prototype.hasOwnProperty.call(files, name) ? files[name] : undefined;
    },
    async list() {
      return Object.keys(files);
    },
  };
}

export function fileReader(source: Magvit2Source, options: SourceOptions = {}): FileReader {
  if (source instanceof URL) {
    if (source.protocol === 'file:' && isNode()) return folderReader(decodeURIComponent(source.pathname));
    return urlReader(source.href, options);
  }
  if (typeof source === 'string') {
    if (isHttp(source) || !isNode()) return urlReader(source, options);
    return folderReader(source.startsWith('file:') ? decodeURIComponent(new URL(source).pathname) : source);
  }
  if (typeof source === 'object' && source !== null && !ArrayBuffer.isView(source) && !(source instanceof ArrayBuffer)) return mapReader(source);
  throw new ConfigError('a MAGVIT-v2 source is a folder path, a URL prefix, or a map of file name -> content');
}

/** File content as bytes (text is UTF-8 encoded). */
export function asBytes(content: Magvit2FileContent, name: string): Uint8Array {
  if (content instanceof Uint8Array) return content;
  if (content instanceof ArrayBuffer) return new Uint8Array(content);
  if (typeof content === 'string') return new TextEncoder().encode(content);
  throw new ConfigError(`file ${name} must be bytes, got an object`);
}

/** File content as a parsed JSON object. */
export function asJson(content: Magvit2FileContent, name: string): unknown {
  if (typeof content === 'object' && !(content instanceof Uint8Array) && !(content instanceof ArrayBuffer)) return content;
  const text = typeof content === 'string' ? content : new TextDecoder().decode(content instanceof ArrayBuffer ? new Uint8Array(content) : content);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}
