/**
 * Decoding a tensor's bytes (little-endian, row-major) into the typed array tfjs uses. F16 and BF16 are
 * widened to float32 exactly (subnormals, infinities, NaN payloads kept); integers are narrowed to int32
 * with a range check.
 */
import { SafetensorsError } from '../errors';
import { READABLE_DTYPES, type ReadableDtype } from './dtypes';
import { quote } from './header';
import type { RawTensor } from './types';

/** True on the (little-endian) platforms where typed arrays can view the file's bytes directly. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The float32 bit pattern of an IEEE half-precision bit pattern (exact). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  let mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // inf, NaN (payload kept)
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0; // normal: rebias 15 -> 127
  if (mantissa === 0) return sign >>> 0; // ±0
  // Subnormal: mantissa · 2^-24. Shift until the implicit bit appears; each shift lowers the exponent.
  let e = 113; // biased float32 exponent of 2^-14
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | undefined;
function halfTable(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** Widens little-endian F16 bytes to float32. */
export function decodeF16(bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength >>> 1;
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  const table = halfTable();
  for (let i = 0, j = 0; i < count; i++, j += 2) bits[i] = table[bytes[j] | (bytes[j + 1] << 8)];
  return out;
}

/** Widens little-endian BF16 bytes to float32 (bf16 is the top half of a float32). */
export function decodeBF16(bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength >>> 1;
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0, j = 0; i < count; i++, j += 2) bits[i] = ((bytes[j] | (bytes[j + 1] << 8)) << 16) >>> 0;
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** F32 / I32: a view into the input when aligned (and the platform is little-endian), else a copy. */
function decode32<T extends Float32Array | Int32Array>(bytes: Uint8Array, Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; new (n: number): T }, copy: boolean): T {
  const count = bytes.byteLength >>> 2;
  if (LITTLE_ENDIAN) {
    if (!copy && bytes.byteOffset % 4 === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
    const own = new Uint8Array(bytes); // a fresh, aligned copy
    return new Ctor(own.buffer, 0, count);
  }
  const out = new Ctor(count);
  const dv = view(bytes);
  const float = out instanceof Float32Array;
  for (let i = 0; i < count; i++) out[i] = float ? dv.getFloat32(i * 4, true) : dv.getInt32(i * 4, true);
  return out;
}

function rangeError(name: string, index: number, value: bigint | number, dtype: string): SafetensorsError {
  return new SafetensorsError(
    `tensor ${quote(name)}: ${dtype} value ${value} at element ${index} is outside the int32 range [-2147483648, 2147483647]; ` +
      'it cannot be read as int32',
  );
}

function decodeInt(bytes: Uint8Array, dtype: ReadableDtype, name: string): Int32Array {
  const dv = view(bytes);
  switch (dtype) {
    case 'U8': {
      const out = new Int32Array(bytes.byteLength);
      out.set(bytes);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(bytes.byteLength);
      out.set(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return out;
    }
    case 'I16':
    case 'U16': {
      const out = new Int32Array(bytes.byteLength >>> 1);
      if (dtype === 'I16') for (let i = 0; i < out.length; i++) out[i] = dv.getInt16(i * 2, true);
      else for (let i = 0; i < out.length; i++) out[i] = dv.getUint16(i * 2, true);
      return out;
    }
    case 'U32': {
      const out = new Int32Array(bytes.byteLength >>> 2);
      for (let i = 0; i < out.length; i++) {
        const v = dv.getUint32(i * 4, true);
        if (v > 0x7fffffff) throw rangeError(name, i, v, dtype);
        out[i] = v;
      }
      return out;
    }
    case 'I64':
    case 'U64': {
      const out = new Int32Array(bytes.byteLength >>> 3);
      const signed = dtype === 'I64';
      for (let i = 0; i < out.length; i++) {
        const lo = dv.getUint32(i * 8, true);
        const hi = dv.getUint32(i * 8 + 4, true);
        // In range: high word is the sign extension of the low word's top bit.
        const ok = (hi === 0 && lo <= 0x7fffffff) || (signed && hi === 0xffffffff && lo > 0x7fffffff);
        if (!ok) throw rangeError(name, i, signed ? dv.getBigInt64(i * 8, true) : dv.getBigUint64(i * 8, true), dtype);
        out[i] = lo | 0;
      }
      return out;
    }
    default:
      throw new Error(`unreachable: ${dtype}`);
  }
}

/**
 * Decodes one tensor's bytes (exactly its data range, already validated against shape and dtype).
 * `copy: false` lets F32/I32 data view `bytes` when aligned.
 */
export function decodeTensor(name: string, dtype: ReadableDtype, shape: number[], bytes: Uint8Array, copy: boolean): RawTensor {
  const target = READABLE_DTYPES[dtype];
  switch (dtype) {
    case 'F32':
      return { dtype: 'float32', shape, data: decode32(bytes, Float32Array, copy), sourceDtype: dtype };
    case 'I32':
      return { dtype: 'int32', shape, data: decode32(bytes, Int32Array, copy), sourceDtype: dtype };
    case 'F16':
      return { dtype: 'float32', shape, data: decodeF16(bytes), sourceDtype: dtype };
    case 'BF16':
      return { dtype: 'float32', shape, data: decodeBF16(bytes), sourceDtype: dtype };
    case 'F64': {
      const out = new Float32Array(bytes.byteLength >>> 3);
      const dv = view(bytes);
      for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
      return { dtype: 'float32', shape, data: out, sourceDtype: dtype };
    }
    case 'BOOL': {
      // One byte per element; any non-zero byte is true (tfjs bool data holds 0/1).
      const out = new Uint8Array(bytes.byteLength);
      for (let i = 0; i < out.length; i++) out[i] = bytes[i] !== 0 ? 1 : 0;
      return { dtype: 'bool', shape, data: out, sourceDtype: dtype };
    }
    default:
      if (target !== 'int32') throw new Error(`unreachable: ${dtype}`);
      return { dtype: 'int32', shape, data: decodeInt(bytes, dtype, name), sourceDtype: dtype };
  }
}
