/**
 * Writing safetensors: float32 -> F32 (or F16 with `{ float: 'F16' }`: half the bytes), int32 -> I32, bool -> BOOL. The layout is the reference
 * implementation's: tensors sorted by dtype (larger alignment first), then by name; `__metadata__`
 * first in the header (omitted when empty; its keys sorted here, where the reference leaves them in
 * hash order); compact JSON padded with spaces so 8 + N is a multiple of 8. The output depends only on
 * names, dtypes, shapes, values and metadata, so write -> read -> write is byte-identical.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError } from '../errors';
import { SAFETENSORS_DTYPE_BITS, WRITTEN_DTYPES, dtypeRank, type RawDtype, type SafetensorsDtype } from './dtypes';
import { LITTLE_ENDIAN } from './decode';
import { encodeF16 } from './float16';
import { compareNames, quote } from './header';
import type { RawTensorInput } from './types';

/**
 * A tensor whose values are produced only when they are written (e.g. a weight transposed to another
 * layout), so a file can be written without a second copy of the model in memory.
 */
export interface LazyTensorInput {
  dtype: RawDtype;
  shape: number[];
  /** The values, row-major; called once, when this tensor's bytes are written. */
  read(): Promise<Float32Array | Int32Array | Uint8Array>;
}

/** What the writers accept: tf.Tensors (read back one at a time, not disposed), RawTensors or lazy tensors. */
export type WritableTensor = tf.Tensor | RawTensorInput | LazyTensorInput;
type Writable = WritableTensor;

export interface WriteSafetensorsOptions {
  /**
   * How float32 tensors are stored: 'F32' (default, exact) or 'F16' (half the size; values rounded to
   * half precision, to nearest; beyond ±65504 they become ±Infinity). Readers widen F16 back to float32.
   */
  float?: 'F32' | 'F16';
}

interface Planned {
  name: string;
  source: Writable;
  dtype: RawDtype;
  stDtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

const LONE_SURROGATE = /\p{Cs}/u;

function isTensor(value: Writable): value is tf.Tensor {
  return typeof (value as tf.Tensor).data === 'function';
}

function isLazy(value: Writable): value is LazyTensorInput {
  return typeof (value as LazyTensorInput).read === 'function';
}

function checkName(name: string, what: string): void {
  if (LONE_SURROGATE.test(name)) throw new SafetensorsError(`${what} ${quote(name)} is not well-formed Unicode (lone surrogate)`);
}

function plan(tensors: Record<string, Writable>, float: 'F32' | 'F16'): { entries: Planned[]; dataLength: number } {
  if (typeof tensors !== 'object' || tensors === null) throw new SafetensorsError('writeSafetensors expects an object of named tensors');
  const entries: Planned[] = [];
  for (const [name, value] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named "__metadata__" (the key is reserved for metadata)');
    checkName(name, 'tensor name');
    if (typeof value !== 'object' || value === null) throw new SafetensorsError(`tensor ${quote(name)} is not a tensor`);
    const dtype = value.dtype as string;
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
      throw new SafetensorsError(`tensor ${quote(name)} has dtype ${dtype}; only float32, int32 and bool can be written`);
    }
    const shape = Array.from(value.shape);
    let size = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsError(`tensor ${quote(name)} has an invalid shape [${shape.join(', ')}]`);
      size *= d;
    }
    if (isTensor(value)) {
      if (value.isDisposed) throw new SafetensorsError(`tensor ${quote(name)} is disposed`);
    } else if (!isLazy(value)) {
      const expected = dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : Uint8Array;
      if (!(value.data instanceof expected)) {
        throw new SafetensorsError(`tensor ${quote(name)}: a ${dtype} RawTensor needs its data in a ${expected.name}`);
      }
      if (value.data.length !== size) {
        throw new SafetensorsError(`tensor ${quote(name)}: shape [${shape.join(', ')}] has ${size} elements but data has ${value.data.length}`);
      }
    }
    const stDtype = dtype === 'float32' ? float : WRITTEN_DTYPES[dtype];
    entries.push({ name, source: value, dtype, stDtype, shape, begin: 0, end: (size * SAFETENSORS_DTYPE_BITS[stDtype]) / 8 });
  }
  entries.sort((a, b) => dtypeRank(b.stDtype) - dtypeRank(a.stDtype) || compareNames(a.name, b.name));
  let offset = 0;
  for (const e of entries) {
    const length = e.end;
    e.begin = offset;
    e.end = offset + length;
    offset = e.end;
  }
  return { entries, dataLength: offset };
}

function headerJson(entries: Planned[], metadata: Record<string, string> | undefined): string {
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new SafetensorsError('metadata must be an object of string -> string');
    }
    const keys = Object.keys(metadata).sort(compareNames);
    for (const key of keys) {
      checkName(key, 'metadata key');
      const value = metadata[key];
      if (typeof value !== 'string') throw new SafetensorsError(`metadata ${quote(key)} must be a string, got ${typeof value}`);
      checkName(value, `metadata value of ${quote(key)}:`);
    }
    if (keys.length > 0) {
      parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
    }
  }
  for (const e of entries) {
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.stDtype}","shape":[${e.shape.join(',')}],"data_offsets":[${e.begin},${e.end}]}`);
  }
  return `{${parts.join(',')}}`;
}

function copyInto(out: Uint8Array, at: number, data: Float32Array | Int32Array | Uint8Array, dtype: RawDtype, stDtype: SafetensorsDtype): void {
  if (stDtype === 'F16') {
    out.set(encodeF16(data as Float32Array), at);
    return;
  }
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) out[at + i] = data[i] !== 0 ? 1 : 0;
    return;
  }
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const dv = new DataView(out.buffer, out.byteOffset + at, data.length * 4);
  for (let i = 0; i < data.length; i++) {
    if (dtype === 'float32') dv.setFloat32(i * 4, data[i], true);
    else dv.setInt32(i * 4, data[i], true);
  }
}

interface Prepared {
  head: Uint8Array;
  entries: Planned[];
  /** Bytes of the whole file. */
  size: number;
}

/** The header (length prefix, JSON, space padding to a multiple of 8) and the data layout. */
function prepare(tensors: Record<string, Writable>, metadata: Record<string, string> | undefined, options: WriteSafetensorsOptions = {}): Prepared {
  const float = options.float ?? 'F32';
  if (float !== 'F32' && float !== 'F16') throw new SafetensorsError(`float must be 'F32' or 'F16', got ${JSON.stringify(float)}`);
  const { entries, dataLength } = plan(tensors, float);
  const json = new TextEncoder().encode(headerJson(entries, metadata));
  const n = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + n);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.byteLength);
  return { head, entries, size: head.byteLength + dataLength };
}

/** The values of one planned tensor, read (or produced) now and checked against its shape. */
async function valuesOf(e: Planned): Promise<Float32Array | Int32Array | Uint8Array> {
  let data: Float32Array | Int32Array | Uint8Array;
  if (isTensor(e.source)) {
    const values = await e.source.data();
    if (!(values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array)) {
      throw new SafetensorsError(`tensor ${quote(e.name)}: unexpected data type from the backend`);
    }
    data = values;
  } else if (isLazy(e.source)) {
    data = await e.source.read();
    const expected = e.dtype === 'float32' ? Float32Array : e.dtype === 'int32' ? Int32Array : Uint8Array;
    if (!(data instanceof expected)) throw new SafetensorsError(`tensor ${quote(e.name)}: read() gave a ${data?.constructor?.name}, expected a ${expected.name}`);
  } else {
    data = e.source.data;
  }
  if (data.length * (SAFETENSORS_DTYPE_BITS[e.stDtype] / 8) !== e.end - e.begin) {
    throw new SafetensorsError(`tensor ${quote(e.name)}: got ${data.length} values for shape [${e.shape.join(', ')}]`);
  }
  return data;
}

/** Little-endian bytes of one tensor's values. */
function bytesOf(data: Float32Array | Int32Array | Uint8Array, dtype: RawDtype, stDtype: SafetensorsDtype): Uint8Array {
  if (stDtype === 'F16') return encodeF16(data as Float32Array);
  if (LITTLE_ENDIAN && dtype !== 'bool') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(dtype === 'bool' ? data.length : data.length * 4);
  copyInto(out, 0, data, dtype, stDtype);
  return out;
}

/** The size in bytes of the file `writeSafetensors` / `writeSafetensorsStream` would write. */
export function safetensorsSize(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>, options?: WriteSafetensorsOptions): number {
  return prepare(tensors, metadata, options).size;
}

/**
 * Writes the same bytes as `writeSafetensors`, piece by piece through `sink`: the header, then each
 * tensor's values as soon as they are read, so no more than one tensor's data is held at a time (files
 * larger than memory, or than Node's 2 GiB buffers). Returns the total size.
 */
export async function writeSafetensorsStream(
  tensors: Record<string, WritableTensor>,
  metadata: Record<string, string> | undefined,
  sink: (bytes: Uint8Array) => Promise<void>,
  options?: WriteSafetensorsOptions,
): Promise<number> {
  const { head, entries, size } = prepare(tensors, metadata, options);
  await sink(head);
  for (const e of entries) await sink(bytesOf(await valuesOf(e), e.dtype, e.stDtype));
  return size;
}

/**
 * Serialises tensors (tf.Tensors, RawTensors or lazy tensors) and string metadata to safetensors bytes.
 * tf.Tensors are read back with async `data()`, one at a time, and are not disposed.
 */
export async function writeSafetensors(tensors: Record<string, WritableTensor>, metadata?: Record<string, string>, options?: WriteSafetensorsOptions): Promise<Uint8Array<ArrayBuffer>> {
  const { head, entries, size } = prepare(tensors, metadata, options);
  const out = new Uint8Array(size);
  out.set(head, 0);
  for (const e of entries) copyInto(out, head.byteLength + e.begin, await valuesOf(e), e.dtype, e.stDtype);
  return out;
}
