/**
 * The checkpoint reader on files built here byte by byte (torch-helpers.ts): every dtype, shared and
 * offset storages, nn.Parameter wrappers, zip64, big-endian archives, the legacy (pre-1.6) format, the
 * pickle values plain data can hold, and a typed error for each way a file can be wrong.
 */
import { describe, expect, it } from 'vitest';
import {
  PickleSecurityError,
  readTorchCheckpoint,
  TorchCheckpointError,
  TorchTensor,
  torchTensorsToRaw,
  type PickleDict,
} from '../src';
import { crc32 } from '../src/torch/zip';
import { type ByteKind, dataViewBytes } from './safetensors-helpers';
import { op, pickle, slowCrc32, stateDictPickle, writeTorchLegacy, writeTorchZip, writeZip, type TensorSpec } from './torch-helpers';

/** The DataView setter that writes each torch storage dtype (half and bfloat16 as their raw 16 bits). */
const BYTE_KIND: Record<string, ByteKind> = {
  float64: 'f64',
  float32: 'f32',
  int64: 'i64',
  int32: 'i32',
  int16: 'i16',
  float16: 'u16',
  bfloat16: 'u16',
  int8: 'i8',
  uint8: 'u8',
  bool: 'u8',
};

/** Bytes of values in a torch dtype, little-endian unless `bigEndian` (independent of the reader). */
function storageBytes(dtype: string, values: (number | bigint)[], bigEndian = false): Uint8Array {
  return dataViewBytes(values, BYTE_KIND[dtype] ?? 'u8', bigEndian);
}

/** Storages and tensors covering every dtype, shared storages, offsets, a scalar and an empty tensor. */
const STORAGE_VALUES: Record<string, { dtype: string; values: (number | bigint)[] }> = {
  a: { dtype: 'float64', values: [1.5, -2.25, 1e-300, 3] },
  b: { dtype: 'int16', values: [-32768, 32767, 0, 7, -1, 2] },
  c: { dtype: 'int8', values: [-128, 127, 5] },
  d: { dtype: 'uint8', values: [0, 255, 128, 1] },
  e: { dtype: 'int64', values: [-2147483648n, 2147483647n, 0n, 42n] },
  f: { dtype: 'float32', values: [0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
  g: { dtype: 'bool', values: [1, 0, 1] },
  h: { dtype: 'float16', values: [0x3c00, 0xc000, 0x0001, 0x7c00] }, // 1, -2, smallest subnormal, +inf
  i: { dtype: 'bfloat16', values: [0x3f80, 0xbf00] }, // 1, -0.5
};
const TENSORS: Record<string, TensorSpec> = {
  double: { storage: 'a', dtype: 'float64', shape: [2, 2] },
  short: { storage: 'b', dtype: 'int16', shape: [3, 2] },
  char: { storage: 'c', dtype: 'int8', shape: [3] },
  byte: { storage: 'd', dtype: 'uint8', shape: [2, 2] },
  long: { storage: 'e', dtype: 'int64', shape: [4] },
  // Two views of one storage (tied weights / slices), one of them transposed, one a Parameter.
  first: { storage: 'f', dtype: 'float32', shape: [2, 3], parameter: true },
  second_t: { storage: 'f', dtype: 'float32', offset: 6, shape: [3, 2], stride: [1, 3] },
  scalar: { storage: 'f', dtype: 'float32', offset: 11, shape: [] },
  empty: { storage: 'f', dtype: 'float32', shape: [0, 3] },
  flags: { storage: 'g', dtype: 'bool', shape: [3] },
  half: { storage: 'h', dtype: 'float16', shape: [4] },
  brain: { storage: 'i', dtype: 'bfloat16', shape: [2] },
};
/** What each tensor must read back as (row-major). */
const EXPECTED: Record<string, { dtype: string; shape: number[]; data: (number | bigint)[] }> = {
  double: { dtype: 'float64', shape: [2, 2], data: [1.5, -2.25, 1e-300, 3] },
  short: { dtype: 'int16', shape: [3, 2], data: [-32768, 32767, 0, 7, -1, 2] },
  char: { dtype: 'int8', shape: [3], data: [-128, 127, 5] },
  byte: { dtype: 'uint8', shape: [2, 2], data: [0, 255, 128, 1] },
  long: { dtype: 'int64', shape: [4], data: [-2147483648n, 2147483647n, 0n, 42n] },
  first: { dtype: 'float32', shape: [2, 3], data: [0.5, 1, 2, 3, 4, 5] },
  second_t: { dtype: 'float32', shape: [3, 2], data: [6, 9, 7, 10, 8, 11] },
  scalar: { dtype: 'float32', shape: [], data: [11] },
  empty: { dtype: 'float32', shape: [0, 3], data: [] },
  flags: { dtype: 'bool', shape: [3], data: [1, 0, 1] },
  half: { dtype: 'float16', shape: [4], data: [0x3c00, 0xc000, 0x0001, 0x7c00] },
  brain: { dtype: 'bfloat16', shape: [2], data: [0x3f80, 0xbf00] },
};

const storageInfo = Object.fromEntries(Object.entries(STORAGE_VALUES).map(([k, s]) => [k, { dtype: s.dtype, numel: s.values.length }]));

function buildZip(options: { bigEndian?: boolean; zip64?: boolean } = {}): Uint8Array {
  const storages = Object.fromEntries(Object.entries(STORAGE_VALUES).map(([k, s]) => [k, storageBytes(s.dtype, s.values, options.bigEndian)]));
  return writeTorchZip(stateDictPickle(TENSORS, storageInfo), storages, {
    byteorder: options.bigEndian ? 'big' : 'little',
    zip64: options.zip64,
  });
}

function buildLegacy(): Uint8Array {
  const storages = Object.fromEntries(Object.entries(STORAGE_VALUES).map(([k, s]) => [k, { dtype: s.dtype, bytes: storageBytes(s.dtype, s.values) }]));
  return writeTorchLegacy(stateDictPickle(TENSORS, storageInfo, true), storages);
}

function expectTensors(root: unknown): void {
  const dict = root as PickleDict;
  expect(Object.keys(dict)).toEqual(Object.keys(EXPECTED));
  for (const [name, e] of Object.entries(EXPECTED)) {
    const t = dict[name] as TorchTensor;
    expect(t, name).toBeInstanceOf(TorchTensor);
    expect(t.dtype, name).toBe(e.dtype);
    expect(t.shape, name).toEqual(e.shape);
    expect(Array.from(t.data as ArrayLike<number | bigint>), name).toEqual(e.data);
  }
}

/** A zip checkpoint whose pickle is `body` (no storages). */
function zipOf(body: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return writeTorchZip(body, storages);
}

/** One float32 tensor pickle with a chosen view. */
function oneTensor(spec: Partial<TensorSpec> & { numel?: number; storageName?: string }): Uint8Array {
  const tensor: TensorSpec = { storage: '0', dtype: 'float32', shape: [2], ...spec };
  return stateDictPickle({ t: tensor }, { '0': { dtype: 'float32', numel: spec.numel ?? 4 } });
}
const fourFloats = { '0': storageBytes('float32', [1, 2, 3, 4]) };

describe('torch.save layouts', () => {
  it('reads every supported dtype, shared storages, offsets, strides, a scalar and an empty tensor', () => {
    expectTensors(readTorchCheckpoint(buildZip()));
  });

  it('reads zip64 archives (as PyTorch writes them)', () => {
    expectTensors(readTorchCheckpoint(buildZip({ zip64: true })));
  });

  it('reads big-endian archives (byteorder "big"), swapping every element', () => {
    expectTensors(readTorchCheckpoint(buildZip({ bigEndian: true })));
    expectTensors(readTorchCheckpoint(buildZip({ bigEndian: true }), { copy: true }));
  });

  it('reads the legacy (pre-1.6) format', () => {
    expectTensors(readTorchCheckpoint(buildLegacy()));
  });

  it('reads legacy storage views (view_metadata)', () => {
    // Storage "0" holds 4 floats; the tensor's storage is the view "v" = elements [1, 3) of it.
    const pid = [...op.mark, ...op.str('storage'), ...op.global('torch', 'FloatStorage'), ...op.str('0'), ...op.str('cpu'), ...op.int(4)];
    const view = [...op.mark, ...op.str('v'), ...op.int(1), ...op.int(2), ...op.tuple];
    const main = pickle(
      op.proto(2),
      op.global('torch._utils', '_rebuild_tensor_v2'),
      op.mark,
      pid,
      view,
      op.tuple,
      op.binpersid,
      op.int(0),
      op.int(2),
      op.tuple1,
      op.int(1),
      op.tuple1,
      op.newFalse,
      op.emptyDict,
      op.tuple,
      op.reduce,
      op.stop,
    );
    const t = readTorchCheckpoint(writeTorchLegacy(main, { '0': { dtype: 'float32', bytes: storageBytes('float32', [1, 2, 3, 4]) } })) as TorchTensor;
    expect(Array.from(t.data as Float32Array)).toEqual([2, 3]);
  });

  it('reads _rebuild_tensor_v3 (untyped storage, dtype as an argument) and names dtypes it cannot read', () => {
    const v3 = (dtype: string) =>
      pickle(
        op.proto(2),
        op.global('torch._utils', '_rebuild_tensor_v3'),
        op.mark,
        [...op.mark, ...op.str('storage'), ...op.global('torch', 'UntypedStorage'), ...op.str('0'), ...op.str('cpu'), ...op.int(16), ...op.tuple],
        op.binpersid,
        op.int(1),
        op.int(2),
        op.tuple1,
        op.int(1),
        op.tuple1,
        op.newFalse,
        op.emptyDict,
        op.global('torch', dtype),
        op.tuple,
        op.reduce,
        op.stop,
      );
    const t = readTorchCheckpoint(zipOf(v3('float32'), fourFloats)) as TorchTensor;
    expect([t.dtype, Array.from(t.data as Float32Array)]).toEqual(['float32', [2, 3]]);
    expect(() => readTorchCheckpoint(zipOf(v3('uint16'), fourFloats))).toThrow(/dtype "torch.uint16" are not supported/);
  });

  it('converts to tf-ready data: floats to float32, integers to int32, bool to bool', () => {
    const root = readTorchCheckpoint(buildZip()) as PickleDict;
    const raw = torchTensorsToRaw(root as Record<string, TorchTensor>);
    expect(raw.double.dtype).toBe('float32');
    expect(Array.from(raw.double.data)).toEqual([1.5, -2.25, 0, 3]); // 1e-300 underflows in float32
    expect(raw.long.dtype).toBe('int32');
    expect(Array.from(raw.long.data)).toEqual([-2147483648, 2147483647, 0, 42]);
    expect(Array.from(raw.byte.data)).toEqual([0, 255, 128, 1]);
    expect(raw.flags.dtype).toBe('bool');
    expect(Array.from(raw.half.data)).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(Array.from(raw.brain.data)).toEqual([1, -0.5]);
    expect(raw.scalar.shape).toEqual([]);
  });

  it('refuses int64 values outside the int32 range when converting, naming the tensor', () => {
    const body = stateDictPickle({ big: { storage: '0', dtype: 'int64', shape: [2] } }, { '0': { dtype: 'int64', numel: 2 } });
    const root = readTorchCheckpoint(zipOf(body, { '0': storageBytes('int64', [1n, 2n ** 31n]) })) as Record<string, TorchTensor>;
    expect(Array.from(root.big.data as BigInt64Array)).toEqual([1n, 2n ** 31n]); // the reader itself keeps int64
    expect(() => torchTensorsToRaw(root)).toThrow(TorchCheckpointError);
    expect(() => torchTensorsToRaw(root)).toThrow(/"big".*2147483648.*outside the int32 range/);
  });
});

describe('pickle values', () => {
  it('reads the plain data a checkpoint can hold', () => {
    const b = (s: string) => [...new TextEncoder().encode(s)];
    const body = pickle(
      op.proto(4),
      [0x95, 0, 0, 0, 0, 0, 0, 0, 0], // FRAME
      op.emptyDict,
      [0x94], // MEMOIZE -> 0
      op.mark,
      [0x8c, 3, ...b('int')], op.int(70000),
      [0x8c, 3, ...b('neg')], [0x4a, 0xff, 0xff, 0xff, 0xff], // BININT -1
      [0x8c, 3, ...b('big')], op.long1(2n ** 70n + 1n),
      [0x8c, 5, ...b('small')], op.long1(-5n),
      [0x8c, 1, ...b('f')], op.float(-0.375),
      [0x8c, 4, ...b('none')], op.none,
      [0x8c, 1, ...b('t')], op.newTrue,
      [0x8c, 4, ...b('list')], op.emptyList, op.mark, op.int(1), op.str('two'), op.appends,
      [0x8c, 3, ...b('set')], [0x8f], op.mark, op.int(1), op.int(2), [0x90], // EMPTY_SET, ADDITEMS
      [0x8c, 6, ...b('frozen')], op.mark, op.int(3), [0x91], // FROZENSET
      [0x8c, 5, ...b('bytes')], [0x43, 2, 0xde, 0xad], // SHORT_BINBYTES
      [0x8c, 6, ...b('codecs')], op.global('_codecs', 'encode'), op.str('\u00ff\u0001'), op.str('latin1'), op.tuple2, op.reduce,
      [0x8c, 5, ...b('empty')], op.global('__builtin__', 'bytes'), op.emptyTuple, op.reduce,
      [0x8c, 4, ...b('size')], op.global('torch', 'Size'), op.int(2), op.int(3), op.tuple2, op.tuple1, op.reduce,
      [0x8c, 6, ...b('device')], op.global('torch', 'device'), op.str('cuda'), op.int(1), op.tuple2, op.reduce,
      [0x8c, 5, ...b('dtype')], op.global('torch', 'float16'),
      [0x8c, 3, ...b('odc')], [0x8c, 11, ...b('collections')], [0x8c, 11, ...b('OrderedDict')], [0x93], op.emptyTuple, op.newobj, // STACK_GLOBAL + NEWOBJ
      op.mark, op.str('k'), op.int(1), op.setitems, op.emptyDict, op.build, // BUILD on an OrderedDict (its _metadata): ignored
      op.int(3), op.str('int key'),
      [0x8c, 4, ...b('self')], [0x68, 0], // BINGET 0: the dict itself
      op.setitems,
      op.stop,
    );
    const v = readTorchCheckpoint(zipOf(body)) as PickleDict;
    expect(v.int).toBe(70000);
    expect(v.neg).toBe(-1);
    expect(v.big).toBe(2n ** 70n + 1n);
    expect(v.small).toBe(-5);
    expect(v.f).toBe(-0.375);
    expect(v.none).toBeNull();
    expect(v.t).toBe(true);
    expect(v.list).toEqual([1, 'two']);
    expect(v.set).toEqual(new Set([1, 2]));
    expect(v.frozen).toEqual(new Set([3]));
    expect(v.bytes).toEqual(Uint8Array.from([0xde, 0xad]));
    expect(v.codecs).toEqual(Uint8Array.from([0xff, 0x01]));
    expect(v.empty).toEqual(new Uint8Array(0));
    expect(v.size).toEqual([2, 3]);
    expect(v.device).toBe('cuda:1');
    expect(v.dtype).toBe('torch.float16');
    expect({ ...(v.odc as PickleDict) }).toEqual({ k: 1 });
    expect(v['3']).toBe('int key');
    expect(v.self).toBe(v);
  });

  it('refuses a dict whose int and str keys would collide', () => {
    const body = pickle(op.proto(2), op.emptyDict, op.mark, op.int(1), op.int(0), op.str('1'), op.int(0), op.setitems, op.stop);
    expect(() => readTorchCheckpoint(zipOf(body))).toThrow(/both a number key and a str key written "1"/);
  });
});

describe('malformed checkpoints end in a TorchCheckpointError', () => {
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty input', () => new Uint8Array(0), /not a PyTorch checkpoint/],
    ['JSON', () => new TextEncoder().encode('{"a": 1}'), /not a PyTorch checkpoint/],
    ['a tar file', () => { const t = new Uint8Array(1024); t.set(new TextEncoder().encode('ustar'), 257); return t; }, /tar-format/],
    ['a truncated zip', () => buildZip().subarray(0, 3000), /bad zip archive: no end-of-central-directory/],
    ['a zip cut before its central directory', () => { const z = buildZip(); return z.subarray(0, z.length - 30); }, /bad zip archive/],
    ['a deflate-compressed data.pkl', () => writeTorchZip(oneTensor({}), fourFloats, { methods: { 'archive/data.pkl': 8 } }), /compressed \(deflate\).*zip -0/],
    ['a TorchScript archive', () => writeZip([['m/constants.pkl', pickle(op.proto(2), op.none, op.stop)], ['m/code/m.py', new Uint8Array(1)]]), /TorchScript/],
    ['a zip without data.pkl', () => writeZip([['m/other', new Uint8Array(1)]]), /no "m\/data.pkl"/],
    ['a zip without folders', () => writeZip([['data.pkl', new Uint8Array(1)]]), /not inside a folder/],
    ['an empty zip', () => writeZip([]), /empty/],
    ['a missing data entry', () => zipOf(oneTensor({})), /storage "0" has no data: the archive has no entry "archive\/data\/0"/],
    ['a storage entry too short', () => zipOf(oneTensor({ numel: 8 }), fourFloats), /should hold 8 float32 values \(32 bytes\) but "archive\/data\/0" has 16/],
    ['a view past its storage', () => zipOf(oneTensor({ offset: 3 }), fourFloats), /reaches element 4 of a storage of 4 elements/],
    ['a view with a bad stride', () => zipOf(oneTensor({ shape: [2, 2], stride: [3, 1] }), fourFloats), /reaches element 4/],
    ['sizes and strides of different ranks', () => zipOf(oneTensor({ shape: [2, 2], stride: [1] }), fourFloats), /2 sizes but 1 strides/],
    ['an unknown byte order', () => writeTorchZip(oneTensor({}), fourFloats, { byteorder: 'middle' }), /unknown byte order "middle"/],
    ['an unsupported storage type', () => {
      const body = pickle(op.proto(2), op.mark, op.str('storage'), op.global('torch', 'ComplexFloatStorage'), op.str('0'), op.str('cpu'), op.int(1), op.tuple, op.binpersid, op.stop);
      return zipOf(body, fourFloats);
    }, /storage type torch.ComplexFloatStorage is not supported/],
    ['a persistent id of the wrong form', () => zipOf(pickle(op.proto(2), op.str('0'), op.binpersid, op.stop)), /persistent id must be \('storage'/],
    ['a storage used as two dtypes', () => {
      const body = stateDictPickle(
        { a: { storage: '0', dtype: 'float32', shape: [1] }, b: { storage: '0', dtype: 'int32', shape: [1] } },
        { '0': { dtype: 'float32', numel: 4 } },
      );
      // Patch the second storage type: write it with IntStorage by building the pickle by hand instead.
      const text = new TextDecoder('latin1').decode(body);
      const second = text.lastIndexOf('FloatStorage');
      const patched = text.slice(0, second) + 'IntStorage\n' + text.slice(second + 'FloatStorage\n'.length);
      return zipOf(Uint8Array.from(patched, (c) => c.charCodeAt(0)), fourFloats);
    }, /storage "0" is used as both float32 and int32/],
    ['an unsupported opcode', () => zipOf(pickle(op.proto(2), [0x82, 1], op.stop)), /opcode EXT1 is not supported/],
    ['a byte that is no opcode', () => zipOf(pickle(op.proto(2), [0xff], op.stop)), /0xff is not a pickle opcode/],
    ['a pickle without STOP', () => zipOf(pickle(op.proto(2), op.none)), /truncated/],
    ['a truncated string', () => zipOf(pickle(op.proto(2), [0x58, 100, 0, 0, 0, 0x41])), /truncated: 100 more bytes needed, 1 left/],
    ['invalid UTF-8', () => zipOf(pickle(op.proto(2), [0x58, 1, 0, 0, 0, 0xff], op.stop)), /not valid UTF-8/],
    ['an unknown memo entry', () => zipOf(pickle(op.proto(2), op.binget(7), op.stop)), /memo entry 7 was never stored/],
    ['a stray value at STOP', () => zipOf(pickle(op.proto(2), op.none, op.none, op.stop)), /1 values are left on the stack/],
    ['a call of a non-callable', () => zipOf(pickle(op.proto(2), op.int(1), op.emptyTuple, op.reduce, op.stop)), /1 cannot be called/],
    ['a storage type called as a function', () => zipOf(pickle(op.proto(2), op.global('torch', 'FloatStorage'), op.emptyTuple, op.reduce, op.stop)), /torch.FloatStorage cannot be called/],
    ['BUILD on a list', () => zipOf(pickle(op.proto(2), op.emptyList, op.emptyDict, op.build, op.stop)), /BUILD cannot set state/],
    ['a protocol newer than 5', () => zipOf(pickle([0x80, 6], op.none, op.stop)), /protocol 6 is newer than 5/],
    ['a legacy file with a bad magic number', () => pickle(op.proto(2), op.int(5), op.stop), /magic number is wrong/],
    ['a legacy whole-module pickle', () => {
      const main = pickle(op.proto(2), op.mark, op.str('module'), op.none, op.none, op.none, op.tuple, op.binpersid, op.stop);
      return writeTorchLegacy(main, {});
    }, /whole nn.Module/],
    ['a legacy file cut inside its data', () => buildLegacy().subarray(0, buildLegacy().length - 3), /truncated inside the data of storage "i"/],
    ['a legacy file whose storage count disagrees', () => {
      const file = buildLegacy();
      const at = file.length - 4 - 8; // storage "i" (2 bfloat16 = 4 bytes) is last; its count precedes it
      new DataView(file.buffer).setBigInt64(at, 3n, true);
      return file;
    }, /storage "i" should hold 2 elements, the file says 3/],
  ];
  for (const [what, build, message] of cases) {
    it(what, () => {
      let caught: unknown;
      try {
        readTorchCheckpoint(build());
      } catch (error) {
        caught = error;
      }
      expect(caught, what).toBeInstanceOf(TorchCheckpointError);
      expect((caught as Error).message).toMatch(message);
    });
  }

  it('verifies CRC-32 (and reads the altered value with checkCrc: false)', () => {
    const file = zipOf(oneTensor({}), fourFloats);
    const data = new TextDecoder('latin1').decode(file).indexOf('archive/data/0') + 'archive/data/0'.length;
    const corrupt = file.slice();
    corrupt[data + 3] ^= 0x40; // the top byte of the first float: 1 -> 4
    expect(() => readTorchCheckpoint(corrupt)).toThrow(/"archive\/data\/0" is corrupt: its CRC-32/);
    const t = (readTorchCheckpoint(corrupt, { checkCrc: false }) as PickleDict).t as TorchTensor;
    expect(t.data[0]).not.toBe(1);
  });

  it('computes CRC-32 as the bit-by-bit definition does, for every length around its 8-byte steps', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= 40; n++) expect(crc32(bytes.subarray(3, 3 + n)), `length ${n}`).toBe(slowCrc32(bytes.subarray(3, 3 + n)));
    expect(crc32(bytes)).toBe(slowCrc32(bytes));
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the standard check value
  });

  it('bounds the bytes a crafted view can make it copy (maxCopiedBytes)', () => {
    // A zero-stride view of one float expanded to 2^22 elements: 16 MiB from a file of a few hundred bytes.
    const body = oneTensor({ shape: [2048, 2048], stride: [0, 0], numel: 1 });
    const file = zipOf(body, { '0': storageBytes('float32', [7]) });
    expect(() => readTorchCheckpoint(file, { maxCopiedBytes: 1_000_000 })).toThrow(/maxCopiedBytes \(1000000\)/);
    const t = (readTorchCheckpoint(file, { maxCopiedBytes: 2 ** 25 }) as PickleDict).t as TorchTensor;
    expect(t.data.length).toBe(2048 * 2048);
    expect(t.data[2048 * 2048 - 1]).toBe(7);
  });

  it('refuses option values it does not know', () => {
    expect(() => readTorchCheckpoint(buildZip(), { unknownGlobals: 'run' as never })).toThrow(/unknownGlobals must be/);
    expect(() => readTorchCheckpoint('x' as never)).toThrow(/Uint8Array or ArrayBuffer/);
  });

  it('never throws anything but typed errors for these cases', () => {
    // PickleSecurityError is its own type; it is covered in torch-security.test.ts.
    expect(new PickleSecurityError('os', 'system', 'x')).not.toBeInstanceOf(TorchCheckpointError);
  });
});
