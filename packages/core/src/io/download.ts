/**
 * Fetching one remote file whole, or not at all: the body is streamed into a sink (the cache, or
 * memory) while progress is reported, then checked against what the server announced (Content-Length,
 * the hub's X-Linked-Size and SHA-256 ETag) and, for safetensors, against the sizes its own header
 * states. Only a file that passes every check is committed; anything else is a typed error naming the
 * URL, and the sink is dropped.
 */
import { AbortError, DownloadError, FileNotFoundError, SafetensorsError } from '../errors';
import { parseSafetensorsHeaderText } from '../safetensors/header';
import { sha256Hasher } from './hash';

export type FetchLike = (input: string, init?: { signal?: AbortSignal }) => Promise<Response>;

export interface DownloadSink {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface DownloadOptions {
  fetch?: FetchLike;
  signal?: AbortSignal;
  /** Bytes received so far, and the announced size when there is one. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Called once the server has answered with a body (before its first byte is read). */
  onStart?: () => void;
}

function resolveFetch(options: DownloadOptions, url: string): FetchLike {
  const f = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
  if (!f) throw new DownloadError(url, 'no fetch is available in this environment; pass options.fetch');
  return f;
}

function networkReason(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}

const isAbort = (error: unknown, signal?: AbortSignal) =>
  signal?.aborted || (error as { name?: string })?.name === 'AbortError';

/** The SHA-256 the hub announces for a file (LFS files: ETag / X-Linked-Etag), if any. */
function announcedSha256(headers: Headers): string | undefined {
  for (const name of ['x-linked-etag', 'etag']) {
    const m = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(headers.get(name)?.trim() ?? '');
    if (m) return m[1].toLowerCase();
  }
  return undefined;
}

/**
 * Checks that a body which starts like a safetensors file is as long as its header says: catches a
 * server whose Content-Length cut the file short. `head` holds the body's first bytes.
 */
function checkSafetensorsLength(head: Uint8Array, size: number, url: string): void {
  if (head.byteLength < 9 || head[8] !== 0x7b) return; // not safetensors ('{' after the length)
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (n > size - 8 || head.byteLength < 8 + n) {
    if (8 + n > size) throw new DownloadError(url, `the body (${size} bytes) ends inside the safetensors header it starts (8 + ${n} bytes)`);
    return; // header longer than the bytes kept to check it: the reader checks it later
  }
  try {
    parseSafetensorsHeaderText(new TextDecoder().decode(head.subarray(8, 8 + n)), n, size - 8 - n);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new DownloadError(url, `the body is not a complete safetensors file: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Bytes of a body kept to check a safetensors header (headers are small; larger ones are checked on read). */
const HEAD_BYTES = 1 << 20;

/**
 * Downloads `url` into `sink`. A 404 is a FileNotFoundError (for `file`), any other failure a
 * DownloadError; on any failure the sink is aborted. Returns the number of bytes.
 */
export async function download(url: string, file: string, sink: DownloadSink, options: DownloadOptions = {}): Promise<number> {
  try {
    return await fetchInto(url, file, sink, options);
  } catch (error) {
    await sink.abort().catch(() => undefined);
    throw error;
  }
}

async function fetchInto(url: string, file: string, sink: DownloadSink, options: DownloadOptions): Promise<number> {
  const doFetch = resolveFetch(options, url);
  if (options.signal?.aborted) throw new AbortError(`downloading ${url} was aborted`);
  let response: Response;
  try {
    response = await doFetch(url, options.signal ? { signal: options.signal } : undefined);
  } catch (error) {
    if (isAbort(error, options.signal)) throw new AbortError(`downloading ${url} was aborted`);
    throw new DownloadError(url, `the server could not be reached: ${networkReason(error)}`, { cause: error });
  }
  if (response.status === 404) {
    await response.body?.cancel().catch(() => undefined);
    throw new FileNotFoundError(file, url, 'HTTP 404');
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadError(url, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`, { status: response.status });
  }
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const contentLength = encoded ? undefined : numberHeader(response.headers.get('content-length'));
  const linkedSize = numberHeader(response.headers.get('x-linked-size'));
  const total = linkedSize ?? contentLength;
  const sha = announcedSha256(response.headers);
  const hasher = sha ? await sha256Hasher() : undefined;
  options.onStart?.();

  const reader = response.body.getReader();
  const head = new Uint8Array(HEAD_BYTES);
  let loaded = 0;
  try {
    options.onProgress?.(0, total);
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (isAbort(error, options.signal)) throw new AbortError(`downloading ${url} was aborted`);
        throw new DownloadError(url, `the connection broke after ${loaded}${total !== undefined ? ` of ${total}` : ''} bytes: ${networkReason(error)}`, { cause: error });
      }
      if (chunk.done) break;
      const bytes = chunk.value;
      if (loaded < HEAD_BYTES) head.set(bytes.subarray(0, HEAD_BYTES - loaded), loaded);
      loaded += bytes.byteLength;
      hasher?.update(bytes);
      await sink.write(bytes);
      options.onProgress?.(loaded, total);
      if (options.signal?.aborted) throw new AbortError(`downloading ${url} was aborted`);
    }
    if (contentLength !== undefined && loaded !== contentLength) {
      throw new DownloadError(url, `received ${loaded} bytes, but the server announced Content-Length ${contentLength}`);
    }
    if (linkedSize !== undefined && loaded !== linkedSize) {
      throw new DownloadError(url, `received ${loaded} bytes, but the hub announced X-Linked-Size ${linkedSize}`);
    }
    if (hasher && sha) {
      const got = await hasher.digest();
      if (got !== sha) throw new DownloadError(url, `its SHA-256 is ${got}, but the server announced ${sha}`);
    }
    checkSafetensorsLength(head.subarray(0, Math.min(loaded, HEAD_BYTES)), loaded, url);
    await sink.commit();
    return loaded;
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  }
}

function numberHeader(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** A sink that keeps the bytes in memory; `bytes()` after commit. */
export function memorySink(): DownloadSink & { bytes(): Uint8Array } {
  const parts: Uint8Array[] = [];
  let result: Uint8Array | undefined;
  return {
    async write(chunk) {
      parts.push(chunk.slice());
    },
    async commit() {
      const total = parts.reduce((n, p) => n + p.byteLength, 0);
      result = new Uint8Array(total);
      let offset = 0;
      for (const p of parts) {
        result.set(p, offset);
        offset += p.byteLength;
      }
      parts.length = 0;
    },
    async abort() {
      parts.length = 0;
    },
    bytes() {
      if (!result) throw new Error('memorySink: bytes() before commit()');
      return result;
    },
  };
}
