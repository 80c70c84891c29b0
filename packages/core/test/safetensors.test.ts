import { mkdtemp, readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_MAX_HEADER_BYTES,
  SafetensorsError,
  VtokError,
  f16BitsToF32Bits,
  loadSafetensors,
  loadSafetensorsBytes,
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsAsTensors,
  saveSafetensorsFile,
  toTensors,
  writeSafetensors,
  writeSafetensorsStream,
  type RawTensor,
} from '../src';
import { readGoldenFile } from '@vtok/test-utils';
import { assemble, le, oneTensor } from './safetensors-helpers';

function bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

function floatBits(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.slice().buffer));
}

function expectError(fn: () => unknown, pattern: RegExp): SafetensorsError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a SafetensorsError matching ${pattern}`).toBeInstanceOf(SafetensorsError);
  expect((error as SafetensorsError).code).toBe('SAFETENSORS');
  expect((error as Error).message).toMatch(pattern);
  return error as SafetensorsError;
}

function headerText(file: Uint8Array): string {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(file.subarray(8, 8 + n));
}

describe('F16', () => {
  it('decodes known half-precision values exactly', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504], // largest finite
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x8001, -(2 ** -24)],
      [0x0200, 2 ** -15],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    const file = oneTensor('F16', [cases.length], le(cases.map(([h]) => h), 'u16'));
    const t = readSafetensors(file).tensors.t;
    expect(t.dtype).toBe('float32');
    expect(t.sourceDtype).toBe('F16');
    expect(t.shape).toEqual([cases.length]);
    expect(Array.from(t.data)).toEqual(cases.map(([, v]) => v));
  });

  it('keeps the sign of zero and NaN payloads', () => {
    const t = readSafetensors(oneTensor('F16', [4], le([0x8000, 0x7e00, 0x7c01, 0xfe00], 'u16'))).tensors.t;
    expect(Object.is(t.data[0], -0)).toBe(true);
    expect(floatBits(t.data as Float32Array).slice(1)).toEqual([0x7fc00000, 0x7f802000, 0xffc00000]);
    expect(Number.isNaN(t.data[1]) && Number.isNaN(t.data[2]) && Number.isNaN(t.data[3])).toBe(true);
  });

  it('agrees with the IEEE formula on all 65536 bit patterns', () => {
    const all = Array.from({ length: 65536 }, (_, h) => h);
    const t = readSafetensors(oneTensor('F16', [256, 256], le(all, 'u16'))).tensors.t;
    expect(t.shape).toEqual([256, 256]);
    const decodedBits = floatBits(t.data as Float32Array);
    for (let h = 0; h < 65536; h++) {
      const s = h >> 15 ? -1 : 1;
      const e = (h >> 10) & 31;
      const m = h & 1023;
      const value = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
      const got = t.data[h];
      if (Number.isNaN(value)) expect(Number.isNaN(got)).toBe(true);
      else if (!Object.is(got, value)) expect.fail(`F16 0x${h.toString(16)}: got ${got}, expected ${value}`);
      if (f16BitsToF32Bits(h) !== decodedBits[h]) expect.fail(`bits of 0x${h.toString(16)}`);
    }
  });
});

describe('other dtypes', () => {
  it('BF16 is the top half of a float32', () => {
    const t = readSafetensors(oneTensor('BF16', [2, 3], le([0x3f80, 0x4049, 0xc2f7, 0x7f80, 0xff80, 0x0001], 'u16'))).tensors.t;
    expect(t.dtype).toBe('float32');
    expect(t.sourceDtype).toBe('BF16');
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 3.140625, -123.5, Infinity, -Infinity, 2 ** -133]);
    const nan = readSafetensors(oneTensor('BF16', [1], le([0x7fc1], 'u16'))).tensors.t;
    expect(floatBits(nan.data as Float32Array)).toEqual([0x7fc10000]);
  });

  it('I64 -> int32 when in range', () => {
    const values = [0n, -1n, 2147483647n, -2147483648n, 123456789n, -42n];
    const t = readSafetensors(oneTensor('I64', [6], le(values, 'i64'))).tensors.t;
    expect(t.dtype).toBe('int32');
    expect(t.sourceDtype).toBe('I64');
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(Array.from(t.data)).toEqual(values.map(Number));
  });

  it.each([2147483648n, -2147483649n, 2n ** 40n, -(2n ** 62n), 4294967295n])('I64 value %s outside int32 is an error', (v) => {
    const e = expectError(() => readSafetensors(oneTensor('I64', [3], le([1n, 2n, v], 'i64'), 'ids')), /"ids".*I64 value .* element 2 .*int32 range/);
    expect(e.message).toContain(String(v));
  });

  it('unsigned and narrow integers -> int32', () => {
    const u8 = readSafetensors(oneTensor('U8', [4], new Uint8Array([0, 1, 128, 255]))).tensors.t;
    expect(u8).toMatchObject({ dtype: 'int32', sourceDtype: 'U8', shape: [4] });
    expect(u8.data).toBeInstanceOf(Int32Array);
    expect(Array.from(u8.data)).toEqual([0, 1, 128, 255]);
    const i8 = readSafetensors(oneTensor('I8', [3], new Uint8Array([0x80, 0xff, 0x7f]))).tensors.t;
    expect(Array.from(i8.data)).toEqual([-128, -1, 127]);
    const i16 = readSafetensors(oneTensor('I16', [3], le([-32768, -1, 32767], 'i16'))).tensors.t;
    expect(Array.from(i16.data)).toEqual([-32768, -1, 32767]);
    const u16 = readSafetensors(oneTensor('U16', [2], le([65535, 7], 'u16'))).tensors.t;
    expect(Array.from(u16.data)).toEqual([65535, 7]);
    const u32 = readSafetensors(oneTensor('U32', [2], le([2147483647, 0], 'u32'))).tensors.t;
    expect(Array.from(u32.data)).toEqual([2147483647, 0]);
    expectError(() => readSafetensors(oneTensor('U32', [1], le([2147483648], 'u32'))), /U32 value 2147483648/);
    const u64 = readSafetensors(oneTensor('U64', [2], le([5n, 2147483647n], 'u64'))).tensors.t;
    expect(Array.from(u64.data)).toEqual([5, 2147483647]);
    expectError(() => readSafetensors(oneTensor('U64', [1], le([2n ** 64n - 1n], 'u64'))), /U64 value 18446744073709551615/);
  });

  it('BOOL -> bool (Uint8Array of 0/1)', () => {
    const t = readSafetensors(oneTensor('BOOL', [5], new Uint8Array([0, 1, 0, 1, 2]))).tensors.t;
    expect(t).toMatchObject({ dtype: 'bool', sourceDtype: 'BOOL', shape: [5] });
    expect(t.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(t.data)).toEqual([0, 1, 0, 1, 1]);
  });

  it('F64 -> float32 (rounded)', () => {
    const t = readSafetensors(oneTensor('F64', [3], le([0.1, -1e300, 2.5], 'f64'))).tensors.t;
    expect(Array.from(t.data)).toEqual([Math.fround(0.1), -Infinity, 2.5]);
  });

  it('scalars and empty tensors', () => {
    const file = assemble(
      JSON.stringify({
        s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
        e: { dtype: 'I64', shape: [3, 0, 2], data_offsets: [4, 4] },
        z: { dtype: 'F16', shape: [0], data_offsets: [4, 4] },
      }),
      le([7.5], 'f32'),
    );
    const { tensors } = readSafetensors(file);
    expect(tensors.s).toMatchObject({ dtype: 'float32', shape: [] });
    expect(Array.from(tensors.s.data)).toEqual([7.5]);
    expect(tensors.e).toMatchObject({ dtype: 'int32', shape: [3, 0, 2] });
    expect(tensors.e.data.length).toBe(0);
    expect(tensors.z.data.length).toBe(0);
  });

  it('a valid safetensors dtype that is not decoded here is refused by name', () => {
    expectError(() => readSafetensors(oneTensor('F8_E4M3', [2], new Uint8Array(2), 'w8')), /"w8": dtype F8_E4M3 is valid safetensors but cannot be read here/);
    expectError(() => readSafetensors(oneTensor('C64', [1], new Uint8Array(8))), /dtype C64/);
    // Sub-byte dtypes must fill whole bytes, as the reference requires.
    expectError(() => readSafetensors(oneTensor('F4', [3], new Uint8Array(2))), /do not fill whole bytes/);
  });
});

describe('alignment and views', () => {
  it('views aligned F32 data in place, and copies when asked', () => {
    const file = assemble(JSON.stringify({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), le([1.5, -2], 'f32'), { padTo: 64 });
    expect((8 + headerText(file).length) % 4).toBe(0);
    const viewed = readSafetensors(file).tensors.t;
    expect(viewed.data.buffer).toBe(file.buffer);
    const copied = readSafetensors(file, { copy: true }).tensors.t;
    expect(copied.data.buffer).not.toBe(file.buffer);
    expect(Array.from(copied.data)).toEqual([1.5, -2]);
  });

  it('copies misaligned F32/I32 data instead of failing', () => {
    // A header whose length makes the data start at an odd offset.
    const header = JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'I32', shape: [1], data_offsets: [8, 12] } });
    const data = new Uint8Array(12);
    data.set(le([3.25, -0.5], 'f32'));
    data.set(le([-7], 'i32'), 8);
    for (let pad = 0; pad < 4; pad++) {
      const file = assemble(header + ' '.repeat(pad), data);
      const { tensors } = readSafetensors(file);
      expect(Array.from(tensors.a.data)).toEqual([3.25, -0.5]);
      expect(Array.from(tensors.b.data)).toEqual([-7]);
      // Also inside a larger buffer at an odd byte offset.
      const big = new Uint8Array(file.length + 3);
      big.set(file, 3);
      const inner = readSafetensors(big.subarray(3)).tensors;
      expect(Array.from(inner.a.data)).toEqual([3.25, -0.5]);
      expect(Array.from(inner.b.data)).toEqual([-7]);
    }
  });

  it('accepts an ArrayBuffer, a Node Buffer and shared memory', () => {
    const file = oneTensor('I32', [2], le([4, 5], 'i32'));
    expect(Array.from(readSafetensors(file.slice().buffer).tensors.t.data)).toEqual([4, 5]);
    expect(Array.from(readSafetensors(Buffer.from(file)).tensors.t.data)).toEqual([4, 5]);
    const shared = new Uint8Array(new SharedArrayBuffer(file.length));
    shared.set(file);
    expect(Array.from(readSafetensors(shared).tensors.t.data)).toEqual([4, 5]);
  });

  it('a tensor named __proto__ is an own property, not a prototype', () => {
    const file = assemble('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array([9]));
    const { tensors } = readSafetensors(file);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Array.from(Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data)).toEqual([9]);
  });
});

describe('malformed input', () => {
  const f32 = (offsets: unknown, shape: unknown = [2], dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: offsets });
  const eight = new Uint8Array(8);
  const file = (header: unknown, data: Uint8Array = eight) => assemble(typeof header === 'string' ? header : JSON.stringify(header), data);

  it('is refused with a message that says what is wrong', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/],
      [new Uint8Array(7), /7 bytes, shorter than the 8-byte/],
      [assemble('{}', undefined, { n: 2n ** 63n }), /header length 9223372036854775808 is over the limit of 100000000/],
      [assemble('{}', undefined, { n: 2n ** 64n - 1n }), /over the limit/],
      [assemble('{}', undefined, { n: 100_000_001n }), /over the limit/],
      [assemble('{}', undefined, { n: 3n }), /header length 3 reaches past the end of the file \(8 \+ 3 > 10 bytes\)/],
      [assemble('{"a":1}', undefined, { n: 1000n }), /reaches past the end/],
      [assemble(''), /not valid JSON/],
      [assemble('{"a":'), /not valid JSON/],
      [assemble('\ufeff{}'), /not valid JSON/],
      [(() => { const f = assemble('{"\u00e9":1}'); f[10] = 0xff; return f; })(), /not valid UTF-8/],
      [assemble('[]'), /must be a JSON object, got an array/],
      [assemble('null'), /must be a JSON object, got null/],
      [assemble('42'), /must be a JSON object, got number 42/],
      [assemble('"x"'), /must be a JSON object, got the string "x"/],
      [file({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__ must map strings to strings, but "a" is number 1/],
      [file({ __metadata__: ['a'] }, new Uint8Array(0)), /__metadata__ must be an object/],
      [file({ __metadata__: 'x' }, new Uint8Array(0)), /__metadata__ must be an object/],
      [file({ t: f32([0, 8], [2], 'F33') }), /tensor "t": unknown dtype "F33"/],
      [file({ t: f32([0, 8], [2], 'f32') }), /unknown dtype "f32"/],
      [file({ t: f32([0, 8], [2], 32) }), /unknown dtype number 32/],
      [file({ t: { shape: [2], data_offsets: [0, 8] } }), /tensor "t": has no dtype/],
      [file({ t: 5 }), /tensor "t": expected an object \{dtype, shape, data_offsets\}/],
      [file({ t: f32([0, 8], 2) }), /shape must be an array of non-negative integers, got number 2/],
      [file({ t: f32([0, 8], [-2]) }), /shape must be an array of non-negative integers, found number -2/],
      [file({ t: f32([0, 8], [1.5]) }), /found number 1.5/],
      [file({ t: f32([0, 8], ['2']) }), /found the string "2"/],
      [file({ t: f32([0, 8], [2 ** 53]) }), /found number 9007199254740992/],
      [file({ t: f32([0, 8], [1e300]) }), /found number 1e\+300/],
      [file({ t: f32([0, 8], [2 ** 30, 2 ** 30, 2 ** 30]) }), /needs more than 2\^46 elements, but data_offsets \[0, 8\] span 8 bytes/],
      [file({ t: f32([0, 8], [3]) }), /dtype F32 with shape \[3\] needs 12 bytes, but data_offsets \[0, 8\] span 8 bytes/],
      [file({ t: f32(null) }), /data_offsets must be two integers \[begin, end\], got null/],
      [file({ t: f32([0]) }), /data_offsets must be two integers/],
      [file({ t: f32([0, 8, 8]) }), /data_offsets must be two integers/],
      [file({ t: f32([-8, 0]) }), /data_offsets must be two non-negative integers, found number -8/],
      [file({ t: f32([0, 8.5]) }), /found number 8.5/],
      [file({ t: f32([0, 2 ** 60]) }), /found number 1152921504606847000/],
      [file({ t: f32(['0', 8]) }), /found the string "0"/],
      [file({ t: f32([8, 0]) }), /data_offsets \[8, 0\] end before they begin/],
      [file({ t: f32([0, 16], [4]) }), /data_offsets \[0, 16\] are out of range of the 8-byte data section/],
      [file({ t: f32([8, 16], [2]) }, new Uint8Array(12)), /out of range of the 12-byte data section/],
      [file({ a: f32([0, 8]), b: f32([4, 12]) }, new Uint8Array(12)), /tensor "b": data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/],
      [file({ a: f32([0, 8]), b: f32([0, 8]) }), /overlap/],
      [file({ a: f32([4, 12]) }, new Uint8Array(12)), /leave a gap of 4 bytes after the start of the data section/],
      [file({ a: f32([0, 8]), b: f32([12, 20]) }, new Uint8Array(20)), /"b": .* gap of 4 bytes after tensor "a", which ends at 8/],
      [file({ a: f32([0, 8]) }, new Uint8Array(12)), /data section is 12 bytes but the tensors cover only 8: 4 bytes at the end belong to no tensor/],
      [file({}, new Uint8Array(1)), /cover only 0/],
    ];
    for (const [bytes, pattern] of cases) expectError(() => readSafetensors(bytes), pattern);
  });

  it('honours maxHeaderBytes and rejects a bad limit', () => {
    const f = file({ a: f32([0, 8]) });
    const n = headerText(f).length;
    expect(() => readSafetensors(f, { maxHeaderBytes: n })).not.toThrow();
    expectError(() => readSafetensors(f, { maxHeaderBytes: n - 1 }), new RegExp(`header length ${n} is over the limit of ${n - 1} bytes`));
    expect(() => readSafetensors(f, { maxHeaderBytes: -1 })).toThrow(VtokError);
    expect(DEFAULT_MAX_HEADER_BYTES).toBe(100_000_000);
  });

  it('rejects what is not bytes', () => {
    expectError(() => readSafetensors('abc' as never), /expected the file's bytes/);
    expectError(() => readSafetensors(null as never), /expected the file's bytes/);
  });

  it('accepts what the reference accepts: null metadata, padding, extra fields, any key order', () => {
    const f = assemble('{"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8],"extra":1},"__metadata__":null,"a":{"data_offsets":[0,4],"shape":[],"dtype":"F32"}}', le([1, 2], 'i32'), {
      padTo: 200,
    });
    const { tensors, metadata } = readSafetensors(f);
    expect(metadata).toEqual({});
    expect(Object.keys(tensors)).toEqual(['a', 'b']); // data order
    const header = parseSafetensorsHeader(f);
    expect(header).toMatchObject({ headerLength: 200, dataStart: 208, dataLength: 8 });
    expect(header.tensors.map((t) => [t.name, t.dataOffsets])).toEqual([
      ['a', [0, 4]],
      ['b', [4, 8]],
    ]);
  });

  it('keeps error messages short even for hostile names', () => {
    const long = 'x'.repeat(100_000);
    const e = expectError(() => readSafetensors(file({ [long]: f32([0, 8], [2], 'Q') })), /unknown dtype "Q"/);
    expect(e.message.length).toBeLessThan(300);
  });
});

describe('writeSafetensors', () => {
  it("{ float: 'F16' } stores float32 as half precision, rounded as numpy's float16 cast; the reader widens it back", async () => {
    // [float32 value, numpy.float32(v).astype(numpy.float16) bits]: exact, rounded, ties to even, overflow
    // to Infinity, subnormals, underflow to zero, signed zero.
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00], [70000, 0x7c00],
      [1e-7, 0x0002], [5.96e-8, 0x0001], [2.98e-8, 0x0000], [2.99e-8, 0x0001], [-0, 0x8000], [0.333333, 0x3555],
      [1.00146484375, 0x3c02], [1.00048828125, 0x3c00], [6.1e-5, 0x03ff], [3.0e-5, 0x01f7], [-Infinity, 0xfc00],
    ];
    const values = Float32Array.from(cases, ([v]) => v);
    const bytes = await writeSafetensors({ w: { dtype: 'float32', shape: [cases.length], data: values }, ids: { dtype: 'int32', shape: [1], data: new Int32Array([7]) } }, undefined, { float: 'F16' });
    // The reference layout: larger alignment first, so the I32 tensor before the F16 one.
    expect(headerText(bytes).trimEnd()).toBe(`{"ids":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F16","shape":[${cases.length}],"data_offsets":[4,${4 + 2 * cases.length}]}}`);
    const read = readSafetensors(bytes).tensors;
    expect(read.w.sourceDtype).toBe('F16');
    expect(Array.from(read.w.data)).toEqual(cases.map(([, h]) => new Float32Array(new Uint32Array([f16BitsToF32Bits(h)]).buffer)[0]));
    expect(Array.from(read.ids.data)).toEqual([7]);
    // The streaming writer gives the same bytes.
    const pieces: Uint8Array[] = [];
    await writeSafetensorsStream({ w: { dtype: 'float32', shape: [cases.length], data: values }, ids: { dtype: 'int32', shape: [1], data: new Int32Array([7]) } }, undefined, async (b) => void pieces.push(b.slice()), { float: 'F16' });
    expect(Buffer.concat(pieces).equals(Buffer.from(bytes))).toBe(true);
    const nan = readSafetensors(await writeSafetensors({ n: { dtype: 'float32', shape: [1], data: new Float32Array([NaN]) } }, undefined, { float: 'F16' })).tensors;
    expect(Number.isNaN(nan.n.data[0])).toBe(true);
    // Half the bytes of F32 for the values; a bad option is refused.
    const big = { w: { dtype: 'float32' as const, shape: [1000], data: new Float32Array(1000).fill(0.5) } };
    expect((await writeSafetensors(big)).byteLength - (await writeSafetensors(big, undefined, { float: 'F16' })).byteLength).toBe(2000);
    await expect(writeSafetensors(big, undefined, { float: 'F8' as never })).rejects.toThrow(/float must be 'F32' or 'F16', got "F8"/);
  });

  it('writes the reference layout: sorted by dtype then name, compact JSON, space padding to 8', async () => {
    const bytes = await writeSafetensors(
      {
        b: { dtype: 'int32', shape: [2], data: new Int32Array([1, -2]) },
        flag: { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
        c: { dtype: 'float32', shape: [1, 2], data: new Float32Array([0.5, -0.25]) },
        a: { dtype: 'float32', shape: [], data: new Float32Array([3]) },
      },
      { z: 'last', a: 'first "quoted"\n' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = headerText(bytes);
    const json =
      '{"__metadata__":{"a":"first \\"quoted\\"\\n","z":"last"},' +
      '"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"c":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]},' +
      '"b":{"dtype":"I32","shape":[2],"data_offsets":[12,20]},' +
      '"flag":{"dtype":"BOOL","shape":[3],"data_offsets":[20,23]}}';
    expect(text.trimEnd()).toBe(json);
    expect(text).toBe(json.padEnd(n, ' '));
    expect(Array.from(bytes.subarray(8 + n))).toEqual([
      ...le([3, 0.5, -0.25], 'f32'),
      ...le([1, -2], 'i32'),
      1,
      0,
      1,
    ]);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ a: 'first "quoted"\n', z: 'last' });
    expect(back.tensors.flag).toMatchObject({ dtype: 'bool', sourceDtype: 'BOOL', shape: [3] });
  });

  it('omits empty metadata and writes an empty file as {} padded', async () => {
    const bytes = await writeSafetensors({});
    expect(Array.from(bytes)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from('{}      ')]);
    expect(await writeSafetensors({}, {})).toEqual(bytes);
    expect(readSafetensors(bytes)).toEqual({ tensors: {}, metadata: {} });
  });

  it('orders names by code point (UTF-8 byte order), as Rust does', async () => {
    const names = ['b', 'a', 'B', 'é', '\u{1F600}', '\uffff', 'a.b', 'a0', ''];
    const raw = Object.fromEntries(names.map((k) => [k, { dtype: 'float32' as const, shape: [], data: new Float32Array([1]) }]));
    const order = Object.keys(readSafetensors(await writeSafetensors(raw)).tensors);
    const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(order).toEqual(byBytes);
  });

  it('writes F16/BF16/I64 tensors it read as F32/I32', async () => {
    const { tensors } = readSafetensors(
      assemble(
        JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, i: { dtype: 'I64', shape: [1], data_offsets: [4, 12] } }),
        new Uint8Array([...le([0x3c00, 0x0001], 'u16'), ...le([-5n], 'i64')]),
      ),
    );
    const back = readSafetensors(await writeSafetensors(tensors)).tensors;
    expect(back.h).toMatchObject({ sourceDtype: 'F32', shape: [2] });
    expect(Array.from(back.h.data)).toEqual([1, 2 ** -24]);
    expect(back.i).toMatchObject({ sourceDtype: 'I32' });
    expect(Array.from(back.i.data)).toEqual([-5]);
  });

  it('writes tf.Tensors through async data(), never dataSync', async () => {
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const i = tf.tensor1d([7, -8], 'int32');
    const b = tf.tensor1d([true, false], 'bool');
    try {
      const bytes = await writeSafetensors({ x, i, b }, { note: 'hi' });
      expect(dataSync).not.toHaveBeenCalled();
      const back = readSafetensors(bytes);
      expect(back.tensors.x).toMatchObject({ dtype: 'float32', shape: [2, 3] });
      expect(Array.from(back.tensors.x.data)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(back.tensors.i.data)).toEqual([7, -8]);
      expect(Array.from(back.tensors.b.data)).toEqual([1, 0]);
      expect(back.metadata).toEqual({ note: 'hi' });
      expect(x.isDisposed).toBe(false);
    } finally {
      dataSync.mockRestore();
      tf.dispose([x, i, b]);
    }
  });

  it('refuses what it cannot write', async () => {
    const f = (d: Float32Array | Int32Array | Uint8Array, shape: number[], dtype = 'float32') => ({ dtype, shape, data: d }) as never;
    await expect(writeSafetensors({ __metadata__: f(new Float32Array(1), []) })).rejects.toThrow(/reserved/);
    await expect(writeSafetensors({ t: f(new Float32Array(3), [2]) })).rejects.toThrow(/shape \[2\] has 2 elements but data has 3/);
    await expect(writeSafetensors({ t: f(new Int32Array(2), [2]) })).rejects.toThrow(/needs its data in a Float32Array/);
    await expect(writeSafetensors({ t: f(new Float32Array(2), [2], 'complex64') })).rejects.toThrow(/only float32, int32 and bool/);
    await expect(writeSafetensors({ t: f(new Float32Array(2), [2]) }, { k: 5 } as never)).rejects.toThrow(/metadata "k" must be a string/);
    await expect(writeSafetensors({ '\ud800': f(new Float32Array(1), []) })).rejects.toThrow(/lone surrogate/);
    const s = tf.scalar(1);
    s.dispose();
    await expect(writeSafetensors({ s })).rejects.toThrow(/"s" is disposed/);
    await expect(writeSafetensors({ s: tf.tensor(['a']) as never })).rejects.toBeInstanceOf(SafetensorsError);
  });
});

describe('tensors and memory', () => {
  it('readSafetensorsAsTensors makes tensors the caller owns; nothing leaks', async () => {
    const bytes = readGoldenFile('maskgit_tiny/weights.safetensors');
    const before = tf.memory().numTensors;
    const tensors = readSafetensorsAsTensors(bytes);
    const raw = readSafetensors(bytes).tensors;
    expect(tf.memory().numTensors).toBe(before + Object.keys(raw).length);
    const name = Object.keys(raw)[0];
    expect(tensors[name].shape).toEqual(raw[name].shape);
    expect(Array.from(await tensors[name].data())).toEqual(Array.from(raw[name].data));
    const written = await writeSafetensors(tensors, readSafetensors(bytes).metadata);
    expect(tf.memory().numTensors).toBe(before + Object.keys(raw).length);
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
    expect(readSafetensors(written).tensors[name].shape).toEqual(raw[name].shape);
  });

  it('toTensors disposes what it made when one tensor fails', () => {
    const before = tf.memory().numTensors;
    const raw: Record<string, RawTensor> = {
      a: { dtype: 'float32', shape: [1], data: new Float32Array([1]), sourceDtype: 'F32' },
      b: { dtype: 'float32', shape: [5], data: new Float32Array([1]), sourceDtype: 'F32' },
    };
    expect(() => toTensors(raw)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('sources', () => {
  let dir: string;
  const raw = { w: { dtype: 'float32' as const, shape: [2], data: new Float32Array([1, 2]) } };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtok-safetensors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bytes are used as they are', async () => {
    const bytes = await writeSafetensors(raw);
    expect(await loadSafetensorsBytes(bytes)).toBe(bytes);
    expect(Array.from((await loadSafetensors(bytes)).tensors.w.data)).toEqual([1, 2]);
    expect(Array.from((await loadSafetensors(bytes.slice().buffer)).tensors.w.data)).toEqual([1, 2]);
  });

  it('saves atomically and loads from a path, a file: URL and a file:// string', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensorsFile(path, raw, { step: '1' });
    await saveSafetensorsFile(path, { w: { dtype: 'float32', shape: [1], data: new Float32Array([9]) } }, { step: '2' });
    expect(await readdir(dir)).toEqual(['model.safetensors']); // no temporary file left
    for (const source of [path, pathToFileURL(path), pathToFileURL(path).href]) {
      const file = await loadSafetensors(source);
      expect(file.metadata).toEqual({ step: '2' });
      expect(Array.from(file.tensors.w.data)).toEqual([9]);
    }
    expect(new Uint8Array(await readFile(path))).toEqual(await writeSafetensors({ w: { dtype: 'float32', shape: [1], data: new Float32Array([9]) } }, { step: '2' }));
  });

  it('a failed save leaves the old file and no temporary file', async () => {
    const sub = join(dir, 'fail');
    await mkdir(sub);
    const path = join(sub, 'model.safetensors');
    await writeFile(path, 'old');
    const disposed = tf.scalar(1);
    disposed.dispose();
    await expect(saveSafetensorsFile(path, { disposed })).rejects.toBeInstanceOf(SafetensorsError);
    // The rename itself fails: the target is a directory.
    const blocked = join(sub, 'blocked');
    await mkdir(blocked);
    await expect(saveSafetensorsFile(blocked, raw)).rejects.toThrow();
    expect((await readdir(sub)).sort()).toEqual(['blocked', 'model.safetensors']);
    expect(await readFile(path, 'utf8')).toBe('old');
  });

  it('a missing file is a FileNotFoundError naming the path', async () => {
    await expect(loadSafetensors(join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', where: join(dir, 'nope.safetensors') });
  });

  it('http(s) URLs go through the injected fetch, or globalThis.fetch', async () => {
    const bytes = await writeSafetensors(raw);
    const fetch = vi.fn(async (url: string | URL) => (String(url).endsWith('missing') ? new Response('no', { status: 404, statusText: 'Not Found' }) : new Response(bytes)));
    const file = await loadSafetensors('https://example.test/model.safetensors', { fetch, cache: false });
    expect(fetch).toHaveBeenCalledWith('https://example.test/model.safetensors', undefined);
    expect(Array.from(file.tensors.w.data)).toEqual([1, 2]);
    const url = new URL('http://example.test/m.safetensors');
    await loadSafetensors(url, { fetch, cache: false });
    expect(fetch).toHaveBeenLastCalledWith(url.href, undefined);
    await expect(loadSafetensors('https://example.test/missing', { fetch, cache: false })).rejects.toThrow(/missing was not found at https:\/\/example.test\/missing \(HTTP 404\)/);
    vi.stubGlobal('fetch', fetch);
    try {
      expect(Array.from((await loadSafetensors('http://example.test/x', { cache: false })).tensors.w.data)).toEqual([1, 2]);
      expect(fetch).toHaveBeenLastCalledWith('http://example.test/x', undefined);
    } finally {
      vi.unstubAllGlobals();
    }
    // Malformed content from a URL is a SafetensorsError too.
    const bad = vi.fn(async () => new Response(new Uint8Array(3)));
    await expect(loadSafetensors('https://example.test/bad', { fetch: bad, cache: false })).rejects.toThrow(/shorter than the 8-byte/);
  });
});
