/**
 * safetensors read and written one tensor at a time. Official TiTok-L-32 weights are 2.56 GB: over
 * Node's 2 GiB `fs.readFile` limit, and twice that in memory if the file and the model were held at once.
 * Reading: the header first (so every name and shape can be checked before any data is read), then each
 * tensor's bytes in file order, handed over and dropped. Writing: header, then tensor after tensor.
 * Decoding a tensor's bytes (F32/F16/BF16/integers) is @vtok/core's, through a one-tensor file.
 */
import { SafetensorsError, readSafetensors, type RawTensor } from '@vtok/core';

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Pulls exactly n bytes (or fewer at the end of the stream) from a source. */
export type ReadExactly = (n: number) => Promise<Uint8Array>;

export interface SafetensorsReader {
  /** In file order (increasing offsets). */
  entries: TensorEntry[];
  metadata: Record<string, string>;
  /** Calls `onTensor` for every tensor in file order; `onTensor` must copy what it keeps. */
  forEach(onTensor: (entry: TensorEntry, tensor: RawTensor) => void | Promise<void>): Promise<void>;
}

const MAX_HEADER = 100_000_000;

/** Reads the header through `read`, then offers the tensors; `where` names the source in errors. */
export async function openSafetensors(read: ReadExactly, where: string): Promise<SafetensorsReader> {
  const lengthBytes = await read(8);
  if (lengthBytes.byteLength < 8) throw new SafetensorsError(`${where}: file is shorter than the 8-byte header length`);
  const n = Number(new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER) throw new SafetensorsError(`${where}: header length ${n} is over the limit of ${MAX_HEADER} bytes`);
  const headerBytes = await read(n);
  if (headerBytes.byteLength < n) throw new SafetensorsError(`${where}: header length ${n} reaches past the end of the file`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    throw new SafetensorsError(`${where}: header is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(`${where}: header is not a JSON object`);
  const metadata = (json.__metadata__ ?? {}) as Record<string, string>;
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (
      typeof dtype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[1] < offsets[0]
    ) {
      throw new SafetensorsError(`${where}: tensor "${name}" has a malformed header entry ${JSON.stringify(info)}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: offsets[0], end: offsets[1] });
  }
  entries.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].begin < entries[i - 1].end) throw new SafetensorsError(`${where}: tensors "${entries[i - 1].name}" and "${entries[i].name}" overlap`);
  }
  return {
    entries,
    metadata,
    async forEach(onTensor) {
      let position = 0;
      for (const entry of entries) {
        if (entry.begin > position) {
          const gap = await read(entry.begin - position);
          if (gap.byteLength < entry.begin - position) throw new SafetensorsError(`${where}: file ends before tensor "${entry.name}"`);
        }
        const bytes = await read(entry.end - entry.begin);
        if (bytes.byteLength < entry.end - entry.begin) throw new SafetensorsError(`${where}: file ends inside tensor "${entry.name}"`);
        position = entry.end;
        await onTensor(entry, decodeOne(entry, bytes, where));
      }
    },
  };
}

/** Decodes one tensor's bytes with core's reader, via a one-tensor safetensors file. */
function decodeOne(entry: TensorEntry, bytes: Uint8Array, where: string): RawTensor {
  const header = new TextEncoder().encode(JSON.stringify({ t: { dtype: entry.dtype, shape: entry.shape, data_offsets: [0, bytes.byteLength] } }));
  const n = Math.ceil(header.byteLength / 8) * 8;
  const file = new Uint8Array(8 + n + bytes.byteLength);
  new DataView(file.buffer).setBigUint64(0, BigInt(n), true);
  file.set(header, 8);
  file.fill(0x20, 8 + header.byteLength, 8 + n);
  file.set(bytes, 8 + n);
  try {
    return readSafetensors(file).tensors.t;
  } catch (cause) {
    throw new SafetensorsError(`${where}: tensor "${entry.name}": ${(cause as Error).message}`, { cause });
  }
}

/** ReadExactly over bytes in memory (views, no copies). */
export function bytesReader(bytes: Uint8Array): ReadExactly {
  let at = 0;
  return async (n) => {
    const out = bytes.subarray(at, Math.min(bytes.byteLength, at + n));
    at += out.byteLength;
    return out;
  };
}

/** ReadExactly over a web ReadableStream (a fetch body), buffering only what has not been consumed. */
export function streamReader(stream: ReadableStream<Uint8Array>): ReadExactly {
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
      const head = pending[0];
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

/** ReadExactly over a Node file handle, sequentially. */
export function fileReader(handle: { read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> }): ReadExactly {
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

export interface WritableTensor {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  /** The values, row-major; called once, just before they are written. */
  read(): Promise<Float32Array | Int32Array>;
}

/** Header bytes (length prefix, JSON, padding) and total file size for tensors sorted by name. */
export function planSafetensors(tensors: WritableTensor[], metadata: Record<string, string>): { sorted: WritableTensor[]; head: Uint8Array; size: number } {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, dtype, shape } of sorted) {
    const length = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: dtype === 'float32' ? 'F32' : 'I32', shape: [...shape], data_offsets: [offset, offset + length] };
    offset += length;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(text.byteLength / 8) * 8;
  const head = new Uint8Array(8 + n);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(text, 8);
  head.fill(0x20, 8 + text.byteLength);
  return { sorted, head, size: head.byteLength + offset };
}

/**
 * Writes tensors (F32/I32) sorted by name, with `metadata`, through `sink` one piece at a time: the
 * header, then each tensor's values as soon as they are read. Returns the total size.
 */
export async function writeSafetensorsStream(
  tensors: WritableTensor[],
  metadata: Record<string, string>,
  sink: (bytes: Uint8Array) => Promise<void>,
): Promise<number> {
  const { sorted, head, size } = planSafetensors(tensors, metadata);
  await sink(head);
  for (const t of sorted) {
    const values = await t.read();
    if (values.length !== t.shape.reduce((a, b) => a * b, 1)) throw new SafetensorsError(`tensor "${t.name}": ${values.length} values for shape [${t.shape}]`);
    await sink(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return size;
}
