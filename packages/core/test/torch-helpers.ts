/**
 * Test helpers for the PyTorch checkpoint reader, written independently of it: a pickle assembler, a
 * stored-zip writer (with its own bit-by-bit CRC-32), writers for torch.save's zip and legacy layouts,
 * and an IEEE half-precision decoder for comparing float16 data with the float32 reference.
 */

import { readGoldenFile } from '@vtok/test-utils';

/** A file of the golden torch_ckpt_tiny case (written by torch.save; see the golden README). */
export function torchFixture(name: string): Uint8Array {
  return readGoldenFile(`torch_ckpt_tiny/${name}`);
}

// ---------------------------------------------------------------------------------------------------
// Pickle assembly: each helper returns the bytes of one opcode and its argument.

type Part = number | number[] | Uint8Array;

export function pickle(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}

const enc = new TextEncoder();
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export const op = {
  proto: (n = 2) => [0x80, n],
  stop: [0x2e],
  mark: [0x28],
  tuple: [0x74],
  tuple1: [0x85],
  tuple2: [0x86],
  tuple3: [0x87],
  emptyTuple: [0x29],
  emptyDict: [0x7d],
  emptyList: [0x5d],
  setitems: [0x75],
  setitem: [0x73],
  appends: [0x65],
  reduce: [0x52],
  build: [0x62],
  newobj: [0x81],
  binpersid: [0x51],
  none: [0x4e],
  newTrue: [0x88],
  newFalse: [0x89],
  binput: (i: number) => [0x71, i],
  binget: (i: number) => [0x68, i],
  global: (module: string, name: string) => [0x63, ...enc.encode(`${module}\n${name}\n`)],
  str: (s: string) => {
    const b = enc.encode(s);
    return [0x58, ...u32(b.length), ...b];
  },
  int: (n: number) => {
    if (n >= 0 && n < 256) return [0x4b, n];
    if (n >= 0 && n < 65536) return [0x4d, n & 0xff, n >>> 8];
    return [0x4a, ...u32(n >>> 0)];
  },
  /** LONG1 of a bigint (two's complement, little-endian, minimal length + sign byte room). */
  long1: (v: bigint) => {
    const bytes: number[] = [];
    let x = v;
    do {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    } while (!(x === 0n && (bytes[bytes.length - 1] & 0x80) === 0) && !(x === -1n && (bytes[bytes.length - 1] & 0x80) !== 0));
    return [0x8a, bytes.length, ...bytes];
  },
  float: (x: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return [0x47, ...b];
  },
};

/** A tuple of small non-negative ints. */
function intTuple(values: number[]): number[] {
  if (values.length === 0) return op.emptyTuple;
  return [...op.mark, ...values.flatMap(op.int), ...op.tuple];
}


// ---------------------------------------------------------------------------------------------------
// torch.save layouts

export const STORAGE_NAMES: Record<string, string> = {
  float64: 'DoubleStorage', float32: 'FloatStorage', float16: 'HalfStorage', bfloat16: 'BFloat16Storage', int64: 'LongStorage',
  int32: 'IntStorage', int16: 'ShortStorage', int8: 'CharStorage', uint8: 'ByteStorage', bool: 'BoolStorage',
};
export const ELEMENT_BYTES: Record<string, number> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** One tensor to write: a view (offset, shape, stride in elements) of storage `storage` (a key into `storages`). */
export interface TensorSpec {
  storage: string;
  dtype: string;
  offset?: number;
  shape: number[];
  stride?: number[];
  /** Wrap in torch._utils._rebuild_parameter (as nn.Parameter objects are pickled). */
  parameter?: boolean;
}

function rowMajorStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i];
  }
  return stride;
}

/**
 * The pickle of `{ name: tensor }` as torch.save writes it (protocol 2, OrderedDict state dict).
 * `legacy` writes the legacy 6-field persistent ids.
 */
export function stateDictPickle(tensors: Record<string, TensorSpec>, storages: Record<string, { dtype: string; numel: number }>, legacy = false): Uint8Array {
  const parts: Part[] = [op.proto(2), op.global('collections', 'OrderedDict'), op.emptyTuple, op.reduce, op.mark];
  for (const [name, t] of Object.entries(tensors)) {
    const s = storages[t.storage];
    const pid = [
      ...op.mark,
      ...op.str('storage'),
      ...op.global('torch', STORAGE_NAMES[s.dtype]),
      ...op.str(t.storage),
      ...op.str('cpu'),
      ...op.int(s.numel),
      ...(legacy ? op.none : []),
      ...op.tuple,
    ];
    const rebuild = [
      ...op.global('torch._utils', '_rebuild_tensor_v2'),
      ...op.mark,
      ...pid,
      ...op.binpersid,
      ...op.int(t.offset ?? 0),
      ...intTuple(t.shape),
      ...intTuple(t.stride ?? rowMajorStride(t.shape)),
      ...op.newFalse,
      ...op.global('collections', 'OrderedDict'),
      ...op.emptyTuple,
      ...op.reduce,
      ...op.tuple,
      ...op.reduce,
    ];
    const value = t.parameter
      ? [...op.global('torch._utils', '_rebuild_parameter'), ...op.mark, ...rebuild, ...op.newTrue, ...op.global('collections', 'OrderedDict'), ...op.emptyTuple, ...op.reduce, ...op.tuple, ...op.reduce]
      : rebuild;
    parts.push(op.str(name), value);
  }
  parts.push(op.setitems, op.stop);
  return pickle(...parts);
}

/** Bit-by-bit CRC-32 (deliberately not the table form the reader uses). */
export function slowCrc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipOptions {
  /** Write zip64 end records and a zip64 extra field per entry (as PyTorch's writer does). */
  zip64?: boolean;
  /** Compression method to record per entry name (the bytes are written as given). */
  methods?: Record<string, number>;
}

/** A zip archive of stored entries, in the given order. */
export function writeZip(entries: [string, Uint8Array][], options: ZipOptions = {}): Uint8Array {
  const chunks: number[] = [];
  const central: number[] = [];
  const push = (target: number[], ...values: (number | [number, number])[]) => {
    // numbers are u32; [value, 2] is a u16; [value, 8] a u64
    for (const v of values) {
      if (typeof v === 'number') target.push(...u32(v >>> 0));
      else if (v[1] === 2) target.push(v[0] & 0xff, (v[0] >>> 8) & 0xff);
      else target.push(...u32(v[0] % 2 ** 32), ...u32(Math.floor(v[0] / 2 ** 32)));
    }
  };
  for (const [name, data] of entries) {
    const nameBytes = enc.encode(name);
    const offset = chunks.length;
    const crc = slowCrc32(data);
    const method = options.methods?.[name] ?? 0;
    push(chunks, 0x04034b50, [20, 2], [0x800, 2], [method, 2], [0, 2], [0, 2], crc, data.length, data.length, [nameBytes.length, 2], [0, 2]);
    chunks.push(...nameBytes, ...data);
    const extra: number[] = [];
    if (options.zip64) push(extra, [1, 2], [24, 2], [data.length, 8], [data.length, 8], [offset, 8]);
    const big = options.zip64 ? 0xffffffff : undefined;
    push(central, 0x02014b50, [45, 2], [45, 2], [0x800, 2], [method, 2], [0, 2], [0, 2], crc, big ?? data.length, big ?? data.length);
    push(central, [nameBytes.length, 2], [extra.length, 2], [0, 2], [0, 2], [0, 2], 0, big ?? offset);
    central.push(...nameBytes, ...extra);
  }
  const cdOffset = chunks.length;
  chunks.push(...central);
  const count = entries.length;
  if (options.zip64) {
    const z64 = chunks.length;
    push(chunks, 0x06064b50, [44, 8], [45, 2], [45, 2], 0, 0, [count, 8], [count, 8], [central.length, 8], [cdOffset, 8]);
    push(chunks, 0x07064b50, 0, [z64, 8], 1);
    push(chunks, 0x06054b50, [0, 2], [0, 2], [0xffff, 2], [0xffff, 2], 0xffffffff, 0xffffffff, [0, 2]);
  } else {
    push(chunks, 0x06054b50, [0, 2], [0, 2], [count, 2], [count, 2], central.length, cdOffset, [0, 2]);
  }
  return Uint8Array.from(chunks);
}

/** A torch.save zip checkpoint: `<folder>/data.pkl`, `byteorder`, `data/<key>` per storage, `version`. */
export function writeTorchZip(pickleBytes: Uint8Array, storages: Record<string, Uint8Array>, options: ZipOptions & { folder?: string; byteorder?: string } = {}): Uint8Array {
  const folder = options.folder ?? 'archive';
  const entries: [string, Uint8Array][] = [[`${folder}/data.pkl`, pickleBytes]];
  if (options.byteorder !== undefined) entries.push([`${folder}/byteorder`, enc.encode(options.byteorder)]);
  for (const [key, bytes] of Object.entries(storages)) entries.push([`${folder}/data/${key}`, bytes]);
  entries.push([`${folder}/version`, enc.encode('3\n')]);
  return writeZip(entries, options);
}

/** A legacy-format checkpoint (PyTorch < 1.6): magic, version, sys info, main pickle, key list, raw storages. */
export function writeTorchLegacy(mainPickle: Uint8Array, storages: Record<string, { dtype: string; bytes: Uint8Array }>): Uint8Array {
  const keys = Object.keys(storages).sort();
  const parts: Part[] = [
    pickle(op.proto(2), op.long1(0x1950a86a20f9469cfc6cn), op.stop),
    pickle(op.proto(2), op.int(1001), op.stop),
    pickle(op.proto(2), op.emptyDict, op.mark, op.str('protocol_version'), op.int(1001), op.str('little_endian'), op.newTrue, op.setitems, op.stop),
    mainPickle,
    pickle(op.proto(2), op.emptyList, op.mark, ...keys.map(op.str), op.appends, op.stop),
  ];
  for (const key of keys) {
    const { dtype, bytes } = storages[key];
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(bytes.length / ELEMENT_BYTES[dtype]), true);
    parts.push(count, bytes);
  }
  return pickle(...parts);
}


// ---------------------------------------------------------------------------------------------------

/** IEEE half-precision bits -> number, from the definition (sign, 5-bit exponent, 10-bit fraction). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits -> number (the top half of a float32). */
export function bfloat16ToNumber(h: number): number {
  return new Float32Array(new Uint32Array([h << 16]).buffer)[0];
}
