/**
 * Test helpers for the safetensors tests, written independently of the reader/writer under test:
 * building files by hand and a tiny DataView parser (the golden files and a PRNG come from @vtok/test-utils).
 */

/** Assembles a file from header text (padded to `pad` bytes with spaces if given) and data bytes. */
export function assemble(headerText: string, data: Uint8Array = new Uint8Array(0), options: { n?: bigint; padTo?: number } = {}): Uint8Array {
  let header = new TextEncoder().encode(headerText);
  if (options.padTo !== undefined && header.length < options.padTo) {
    const padded = new Uint8Array(options.padTo).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, options.n ?? BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

/** A file with one tensor of the given dtype/shape whose data are `data`. */
export function oneTensor(dtype: string, shape: number[], data: Uint8Array, name = 't'): Uint8Array {
  return assemble(JSON.stringify({ [name]: { dtype, shape, data_offsets: [0, data.length] } }), data);
}

/** What `le` / `dataViewBytes` can write: the DataView setter of each. */
export type ByteKind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64' | 'i64' | 'u64';

const KIND_BYTES: Record<ByteKind, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8, i64: 8, u64: 8 };

/** Bytes of numbers written one by one with a DataView setter (independent of the readers under test). */
export function dataViewBytes(values: (number | bigint)[], kind: ByteKind, bigEndian = false): Uint8Array {
  const size = KIND_BYTES[kind];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  const little = !bigEndian;
  values.forEach((v, i) => {
    const at = i * size;
    if (kind === 'u8') dv.setUint8(at, Number(v));
    else if (kind === 'i8') dv.setInt8(at, Number(v));
    else if (kind === 'u16') dv.setUint16(at, Number(v), little);
    else if (kind === 'i16') dv.setInt16(at, Number(v), little);
    else if (kind === 'u32') dv.setUint32(at, Number(v), little);
    else if (kind === 'i32') dv.setInt32(at, Number(v), little);
    else if (kind === 'f32') dv.setFloat32(at, Number(v), little);
    else if (kind === 'f64') dv.setFloat64(at, Number(v), little);
    else if (kind === 'i64') dv.setBigInt64(at, BigInt(v), little);
    else dv.setBigUint64(at, BigInt(v), little);
  });
  return out;
}

/** Little-endian bytes of numbers (safetensors' byte order). */
export function le(values: (number | bigint)[], kind: Exclude<ByteKind, 'u8' | 'i8'>): Uint8Array {
  return dataViewBytes(values, kind);
}

export interface RefTensor {
  dtype: string;
  shape: number[];
  /** Raw 32-bit words read with DataView (F32 bit patterns, I32 values). */
  words: Uint32Array;
  bytes: Uint8Array;
}

/**
 * A second, deliberately simple parser (F32/I32 only, no validation): DataView reads of the length and of
 * every 32-bit word, offsets taken at face value. Used to check the real reader's values.
 */
export function referenceParse(file: Uint8Array): { metadata: Record<string, string>; tensors: Map<string, RefTensor> } {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8')) as Record<string, any>;
  const metadata = header.__metadata__ ?? {};
  const tensors = new Map<string, RefTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = info.data_offsets as [number, number];
    const words = new Uint32Array((e - b) / 4);
    for (let i = 0; i < words.length; i++) words[i] = dv.getUint32(8 + n + b + 4 * i, true);
    tensors.set(name, { dtype: info.dtype, shape: info.shape, words, bytes: file.slice(8 + n + b, 8 + n + e) });
  }
  return { metadata, tensors };
}

/** The bit patterns of a typed array's elements as 32-bit words (platform order = little-endian here). */
export function wordsOf(data: Float32Array | Int32Array): Uint32Array {
  return new Uint32Array(data.slice().buffer);
}
