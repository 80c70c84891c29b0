/**
 * Header parsing and validation. Follows the reference implementation (huggingface/safetensors,
 * `SafeTensors::read_metadata` and `Metadata::validate`): an 8-byte little-endian length N, N bytes of
 * UTF-8 JSON, then the data section, which the tensors must cover exactly: sorted by offsets, each
 * begins where the previous ends, the first at 0, the last ends at the end of the file, and each spans
 * exactly (elements × bits of its dtype) / 8 bytes. Every number from the header is checked against the
 * real buffer size before anything is allocated from it.
 */
import { SafetensorsError, ValueError } from '../errors';
import { SAFETENSORS_DTYPE_BITS, isSafetensorsDtype } from './dtypes';
import type { SafetensorsHeader, SafetensorsTensorInfo } from './types';
import { formatShape } from '../format';

/** The reference implementation's limit on the header length (bytes). */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** Length of the header-length prefix. */
const N_LEN = 8;

/** A byte view over whatever the caller gave (Uint8Array, Buffer, any view, ArrayBuffer). */
export function asBytes(input: unknown): Uint8Array {
  // Always a plain Uint8Array (a Node Buffer's slice() would share memory instead of copying).
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer) return new Uint8Array(input);
  throw new SafetensorsError(`expected the file's bytes as a Uint8Array or ArrayBuffer, got ${describeValue(input)}`);
}

/** Quotes a name for a message, shortened so a hostile header cannot make a huge message. */
export function quote(name: string): string {
  const q = JSON.stringify(name);
  return q.length > 80 ? `${q.slice(0, 77)}..."` : q;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Assigns an own property even for names like `__proto__`. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function checkMaxHeaderBytes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValueError(`maxHeaderBytes must be a non-negative integer, got ${value}`);
  }
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and validates the header of a safetensors file. Throws SafetensorsError saying what is wrong.
 * Reads nothing outside `bytes` and allocates nothing sized from header numbers.
 */
export function parseSafetensorsHeader(input: Uint8Array | ArrayBuffer, options: { maxHeaderBytes?: number } = {}): SafetensorsHeader {
  const bytes = asBytes(input);
  const maxHeaderBytes = checkMaxHeaderBytes(options.maxHeaderBytes);
  const size = bytes.byteLength;
  if (size < N_LEN) {
    throw new SafetensorsError(`file is ${size} bytes, shorter than the 8-byte header length that starts every safetensors file`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, N_LEN).getBigUint64(0, true);
  if (n64 > BigInt(maxHeaderBytes)) {
    throw new SafetensorsError(`header length ${n64} is over the limit of ${maxHeaderBytes} bytes (maxHeaderBytes)`);
  }
  const n = Number(n64);
  if (n > size - N_LEN) {
    throw new SafetensorsError(`header length ${n} reaches past the end of the file (8 + ${n} > ${size} bytes)`);
  }
  const dataStart = N_LEN + n;
  const dataLength = size - dataStart;

  let text: string;
  try {
    // TextDecoder refuses views of shared memory; copy the header out of a SharedArrayBuffer first.
    const headerBytes = bytes.buffer instanceof ArrayBuffer ? bytes.subarray(N_LEN, dataStart) : bytes.slice(N_LEN, dataStart);
    text = utf8.decode(headerBytes);
  } catch (cause) {
    throw new SafetensorsError('header is not valid UTF-8', { cause });
  }
  return parseSafetensorsHeaderText(text, n, dataLength);
}

/**
 * Validates the JSON text of a header of N bytes. `dataLength` is the size of the data section when it
 * is known (a whole file in memory, or a file of known size); when it is not (a stream of unknown
 * length) the tensors must still be contiguous from 0, and the data section is taken to end where they do
 * (a shorter stream is then caught while reading).
 */
export function parseSafetensorsHeaderText(text: string, n: number, dataLength: number | undefined): SafetensorsHeader {
  const dataStart = N_LEN + n;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(`header is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isPlainObject(json)) {
    throw new SafetensorsError(`header must be a JSON object, got ${describeValue(json)}`);
  }

  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (entry === null) continue; // the reference reads `null` as "no metadata"
      if (!isPlainObject(entry)) {
        throw new SafetensorsError(`__metadata__ must be an object of string -> string, got ${describeValue(entry)}`);
      }
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== 'string') {
          throw new SafetensorsError(`__metadata__ must map strings to strings, but ${quote(key)} is ${describeValue(value)}`);
        }
        setOwn(metadata, key, value);
      }
      continue;
    }
    tensors.push(checkTensorEntry(name, entry, dataLength ?? Number.MAX_SAFE_INTEGER));
  }

  // The tensors must cover the data section contiguously, in offset order (as the reference checks).
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1] || compareNames(a.name, b.name));
  let expected = 0;
  let previous: SafetensorsTensorInfo | undefined;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin < expected) {
      throw new SafetensorsError(
        `tensor ${quote(t.name)}: data_offsets [${begin}, ${end}] overlap tensor ${quote(previous!.name)} ` +
          `[${previous!.dataOffsets[0]}, ${previous!.dataOffsets[1]}]`,
      );
    }
    if (begin > expected) {
      throw new SafetensorsError(
        `tensor ${quote(t.name)}: data_offsets [${begin}, ${end}] leave a gap of ${begin - expected} bytes after ` +
          (previous ? `tensor ${quote(previous.name)}, which ends at ${expected}` : 'the start of the data section') +
          '; tensors must cover the data section contiguously',
      );
    }
    expected = end;
    if (end > begin || !previous) previous = t; // name the tensor that holds the bytes in messages
  }
  if (dataLength !== undefined && expected !== dataLength) {
    throw new SafetensorsError(
      `the data section is ${dataLength} bytes but the tensors cover only ${expected}: ` +
        `${dataLength - expected} bytes at the end belong to no tensor (truncated header or appended data?)`,
    );
  }
  return { headerLength: n, dataStart, dataLength: dataLength ?? expected, metadata, tensors };
}

function checkTensorEntry(name: string, entry: unknown, dataLength: number): SafetensorsTensorInfo {
  const where = `tensor ${quote(name)}`;
  if (!isPlainObject(entry)) {
    throw new SafetensorsError(`${where}: expected an object {dtype, shape, data_offsets}, got ${describeValue(entry)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (dtype === undefined) throw new SafetensorsError(`${where}: has no dtype`);
  if (!isSafetensorsDtype(dtype)) {
    throw new SafetensorsError(`${where}: unknown dtype ${typeof dtype === 'string' ? quote(dtype) : describeValue(dtype)}`);
  }
  if (!Array.isArray(shape)) throw new SafetensorsError(`${where}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  // Element count, capped at 2^46 (more than any buffer could hold) so the byte count stays exact.
  const CAP = 2 ** 46;
  let elements = 1;
  let hasZero = false;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new SafetensorsError(`${where}: shape must be an array of non-negative integers, found ${describeValue(dim)}`);
    }
    if (dim === 0) hasZero = true;
    else elements = Math.min(elements * dim, CAP);
  }
  if (hasZero) elements = 0;
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw new SafetensorsError(`${where}: data_offsets must be two integers [begin, end], got ${describeValue(offsets)}`);
  }
  const [begin, end] = offsets as unknown[];
  for (const v of [begin, end]) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new SafetensorsError(`${where}: data_offsets must be two non-negative integers, found ${describeValue(v)}`);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (e < b) throw new SafetensorsError(`${where}: data_offsets [${b}, ${e}] end before they begin`);
  if (e > dataLength) {
    throw new SafetensorsError(`${where}: data_offsets [${b}, ${e}] are out of range of the ${dataLength}-byte data section`);
  }
  const bits = elements * SAFETENSORS_DTYPE_BITS[dtype];
  if (bits % 8 !== 0) {
    throw new SafetensorsError(`${where}: ${elements} elements of ${dtype} (${SAFETENSORS_DTYPE_BITS[dtype]} bits) do not fill whole bytes`);
  }
  const expectedBytes = bits / 8;
  if (expectedBytes !== e - b) {
    const needs = elements >= CAP ? 'more than 2^46 elements' : `${expectedBytes} bytes`;
    throw new SafetensorsError(
      `${where}: dtype ${dtype} with shape ${formatShape(shape)} needs ${needs}, but data_offsets [${b}, ${e}] span ${e - b} bytes`,
    );
  }
  return { name, dtype, shape: shape.slice() as number[], dataOffsets: [b, e] };
}

/** Orders strings by Unicode code points, i.e. as their UTF-8 bytes compare (Rust's `str` order). */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
