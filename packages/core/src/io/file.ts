/**
 * One opened file, wherever it came from (a local file, the cache, a map entry, a browser File, a
 * download held in memory): read it sequentially (`read`, for streaming safetensors) or whole
 * (`bytes`), then `close` it. Use one of the two reading styles per opened file.
 */
import { readExactlyFromBytes, readExactlyFromFile, readExactlyFromStream, type ReadExactly } from '../safetensors/stream';
import { nodeFs } from './env';

export interface OpenedFile {
  /** The path or URL it was read from, for messages. */
  readonly where: string;
  /** Its size in bytes, when known. */
  readonly size: number | undefined;
  readonly read: ReadExactly;
  bytes(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function fileFromBytes(bytes: Uint8Array, where: string): OpenedFile {
  return { where, size: bytes.byteLength, read: readExactlyFromBytes(bytes), bytes: async () => bytes, close: async () => undefined };
}

export function fileFromStream(stream: ReadableStream<Uint8Array>, where: string, size: number | undefined): OpenedFile {
  let reader: ReadExactly | undefined;
  return {
    where,
    size,
    read: (n) => (reader ??= readExactlyFromStream(stream))(n),
    bytes: async () => new Uint8Array(await new Response(stream).arrayBuffer()),
    close: async () => {
      await stream.cancel().catch(() => undefined);
    },
  };
}

export function fileFromBlob(blob: Blob, where: string): OpenedFile {
  let stream: ReadableStream<Uint8Array> | undefined;
  let reader: ReadExactly | undefined;
  return {
    where,
    size: blob.size,
    read: (n) => {
      if (!reader) {
        stream = blob.stream() as ReadableStream<Uint8Array>;
        reader = readExactlyFromStream(stream);
      }
      return reader(n);
    },
    bytes: async () => new Uint8Array(await blob.arrayBuffer()),
    close: async () => {
      await stream?.cancel().catch(() => undefined);
    },
  };
}

/** A local file (Node), or undefined when there is no such file. */
export async function openLocalFile(path: string): Promise<OpenedFile | undefined> {
  const fs = await nodeFs();
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
  const { size } = await handle.stat();
  let closed = false;
  return {
    where: path,
    size,
    read: readExactlyFromFile(handle),
    bytes: async () => {
      const buffer = await handle.readFile();
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

const CHUNK_BYTES = 1 << 24;

/** Reads the first `n` bytes of a file, then hands back a file that reads from the start again. */
export async function peek(file: OpenedFile, n: number): Promise<{ head: Uint8Array; file: OpenedFile }> {
  const head = await file.read(n);
  let pending: Uint8Array | undefined = head;
  const read: ReadExactly = async (count) => {
    if (!pending || pending.byteLength === 0) return file.read(count);
    if (count <= pending.byteLength) {
      const out = pending.subarray(0, count);
      pending = pending.subarray(count);
      return out;
    }
    const rest = await file.read(count - pending.byteLength);
    const out = new Uint8Array(pending.byteLength + rest.byteLength);
    out.set(pending);
    out.set(rest, pending.byteLength);
    pending = undefined;
    return out;
  };
  // The whole file again, head included, into one buffer of the file's size when it is known (one
  // copy plus one chunk in memory: PyTorch checkpoints are read whole, and they can be gigabytes).
  const bytes = async (): Promise<Uint8Array> => {
    let buffer = new Uint8Array(file.size ?? 1 << 20);
    let total = 0;
    for (;;) {
      const chunk = await read(CHUNK_BYTES);
      if (chunk.byteLength === 0) return total === buffer.byteLength ? buffer : buffer.slice(0, total);
      if (total + chunk.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(Math.max(2 * buffer.byteLength, total + chunk.byteLength));
        grown.set(buffer.subarray(0, total));
        buffer = grown;
      }
      buffer.set(chunk, total);
      total += chunk.byteLength;
    }
  };
  return { head, file: { where: file.where, size: file.size, read, bytes, close: () => file.close() } };
}
