/**
 * Reading safetensors one tensor at a time from a sequential source: a file handle (Node), a fetch body,
 * or bytes. The header comes first, validated as `readSafetensors` validates it, so every name, dtype and
 * shape can be checked before any data is read; then each tensor's bytes are read in file order, decoded
 * and handed over. Files over Node's 2 GiB buffer limit (TiTok-L-32 is 2.56 GB) load this way, and a
 * model never holds the whole file next to its weights.
 */
import { SafetensorsError } from '../errors';
import { decodeTensor } from './decode';
import { isReadableDtype, READABLE_DTYPES } from './dtypes';
import { checkMaxHeaderBytes, parseSafetensorsHeaderText, quote } from './header';
import type { RawTensor, SafetensorsHeader, SafetensorsTensorInfo } from './types';

/** Pulls the next n bytes of a source (fewer only at its end). */
export type ReadExactly = (n: number) => Promise<Uint8Array>;

export interface SafetensorsStream {
  /** The validated header; `header.tensors` are in file order. */
  header: SafetensorsHeader;
  /**
   * Reads, decodes and hands over every tensor in file order (once per stream). The tensor's data may be
   * a view of a buffer that is reused or dropped afterwards: `onTensor` copies what it keeps.
   */
  forEach(onTensor: (info: SafetensorsTensorInfo, tensor: RawTensor) => void | Promise<void>): Promise<void>;
}

export interface OpenSafetensorsStreamOptions {
  /** Names the source in error messages (a path or URL). */
  where?: string;
  /** The file's size when known: the header is then checked against it, as for bytes in memory. */
  totalBytes?: number;
  /** Largest header accepted, in bytes. Default 100 MB, as the reference implementation. */
  maxHeaderBytes?: number;
}

/** Reads and validates the header through `read`, and returns a reader for the tensors that follow. */
export async function openSafetensorsStream(read: ReadExactly, options: OpenSafetensorsStreamOptions = {}): Promise<SafetensorsStream> {
  const where = options.where ?? 'safetensors';
  const fail = (message: string, cause?: unknown) => new SafetensorsError(`${where}: ${message}`, cause === undefined ? undefined : { cause });
  const maxHeaderBytes = checkMaxHeaderBytes(options.maxHeaderBytes);
  const total = options.totalBytes;

  const prefix = await read(8);
  if (prefix.byteLength < 8) throw fail(`file is ${prefix.byteLength} bytes, shorter than the 8-byte header length that starts every safetensors file`);
  const n64 = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(maxHeaderBytes)) throw fail(`header length ${n64} is over the limit of ${maxHeaderBytes} bytes (maxHeaderBytes)`);
  const n = Number(n64);
  if (total !== undefined && n > total - 8) throw fail(`header length ${n} reaches past the end of the file (8 + ${n} > ${total} bytes)`);
  const headerBytes = await read(n);
  if (headerBytes.byteLength < n) throw fail(`header length ${n} reaches past the end of the file (it ends after ${8 + headerBytes.byteLength} bytes)`);

  let header: SafetensorsHeader;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    header = parseSafetensorsHeaderText(text, n, total === undefined ? undefined : total - 8 - n);
  } catch (error) {
    if (error instanceof SafetensorsError) throw fail(error.message, error);
    throw fail('header is not valid UTF-8', error);
  }
  for (const t of header.tensors) {
    if (!isReadableDtype(t.dtype)) {
      throw fail(`tensor ${quote(t.name)}: dtype ${t.dtype} is valid safetensors but cannot be read here (supported: ${Object.keys(READABLE_DTYPES).join(', ')})`);
    }
  }

  let consumed = false;
  return {
    header,
    async forEach(onTensor) {
      if (consumed) throw fail('the tensors of a stream can be read only once; open it again');
      consumed = true;
      // The header check guarantees the tensors cover the data contiguously from offset 0, in this order.
      for (const t of header.tensors) {
        const length = t.dataOffsets[1] - t.dataOffsets[0];
        const bytes = await read(length);
        if (bytes.byteLength < length) throw fail(`file ends inside tensor ${quote(t.name)} (${bytes.byteLength} of its ${length} bytes)`);
        if (!isReadableDtype(t.dtype)) continue; // refused above
        await onTensor(t, decodeTensor(t.name, t.dtype, t.shape, bytes, false));
      }
    },
  };
}

/** ReadExactly over bytes in memory (views, no copies). */
export function readExactlyFromBytes(bytes: Uint8Array): ReadExactly {
  let at = 0;
  return async (n) => {
    const out = bytes.subarray(at, Math.min(bytes.byteLength, at + n));
    at += out.byteLength;
    return out;
  };
}

/** ReadExactly over a web ReadableStream (a fetch body), buffering only what has not been consumed. */
export function readExactlyFromStream(stream: ReadableStream<Uint8Array>): ReadExactly {
  const reader = stream.getReader();
  let pending: Uint8Array[] = [];
  let available = 0;
  let done = false;
  return async (n) => {
    while (available < n && !done) {
      const { value, done: finished } = await reader.read();
      if (finished) done = true;
      else if (value && value.byteLength) {
        pending.push(value);
        available += value.byteLength;
      }
    }
    const take = Math.min(n, available);
    const out = new Uint8Array(take);
    let filled = 0;
    while (filled < take) {
      const head = pending[0]!;
      const part = Math.min(head.byteLength, take - filled);
      out.set(head.subarray(0, part), filled);
      filled += part;
      if (part === head.byteLength) pending.shift();
      else pending[0] = head.subarray(part);
    }
    available -= take;
    if (done && available === 0) pending = [];
    return out;
  };
}

/** The part of a Node `FileHandle` that `readExactlyFromFile` uses. */
export interface PositionalFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** ReadExactly over a Node file handle, from the start, sequentially; each call returns a new buffer. */
export function readExactlyFromFile(handle: PositionalFile): ReadExactly {
  let position = 0;
  return async (n) => {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const { bytesRead } = await handle.read(out, filled, n - filled, position);
      if (bytesRead === 0) break;
      filled += bytesRead;
      position += bytesRead;
    }
    return filled === n ? out : out.subarray(0, filled);
  };
}
