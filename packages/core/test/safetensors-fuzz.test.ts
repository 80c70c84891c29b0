/**
 * Mutation test: thousands of corrupted variants of the real fixture files. Each must end either in a
 * successful read (only when the variant is still a valid file, as judged by an independent validator
 * written here from the format's rules) or in a SafetensorsError; never another exception type, a hang
 * or a large allocation. Seeded, so a failure names a reproducible variant.
 */
import { describe, expect, it } from 'vitest';
import { SafetensorsError, readSafetensors } from '../src';
import { prng, readGoldenFile } from '@vtok/test-utils';
import { assemble } from './safetensors-helpers';

const SEED = 20240611;
const VARIANTS = 4000;

const BITS: Record<string, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};
const DECODED = new Set(['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);

/** Is `file` a valid safetensors file that the reader can decode? Written from the rules, separately from the reader. */
function validByRules(file: Uint8Array): boolean {
  if (file.length < 8) return false;
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > 100_000_000n || n > BigInt(file.length - 8)) return false;
  const start = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(file.subarray(8, start)));
  } catch {
    return false;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return false;
  const spans: { b: number; e: number; dtype: string }[] = [];
  for (const [key, value] of Object.entries(header as Record<string, any>)) {
    if (key === '__metadata__') {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) return false;
      if (Object.values(value).some((v) => typeof v !== 'string')) return false;
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const { dtype, shape, data_offsets: off } = value;
    if (typeof dtype !== 'string' || !Object.hasOwn(BITS, dtype)) return false;
    const isIndex = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (!Array.isArray(shape) || !shape.every(isIndex)) return false;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isIndex) || off[1] < off[0]) return false;
    const bits = shape.reduce((a: bigint, d: number) => a * BigInt(d), 1n) * BigInt(BITS[dtype]);
    if (bits % 8n !== 0n || bits / 8n !== BigInt(off[1] - off[0])) return false;
    spans.push({ b: off[0], e: off[1], dtype });
  }
  spans.sort((x, y) => x.b - y.b || x.e - y.e);
  let at = 0;
  for (const s of spans) {
    if (s.b !== at) return false;
    at = s.e;
  }
  if (start + at !== file.length) return false;
  // Decodable: a known dtype this reader handles, integers within int32.
  for (const s of spans) {
    if (!DECODED.has(s.dtype)) return false;
    for (let p = start + s.b; p < start + s.e; p += BITS[s.dtype] / 8) {
      let v: bigint;
      if (s.dtype === 'I64') v = dv.getBigInt64(p, true);
      else if (s.dtype === 'U64') v = dv.getBigUint64(p, true);
      else if (s.dtype === 'U32') v = BigInt(dv.getUint32(p, true));
      else break;
      if (v > 2147483647n || v < -2147483648n) return false;
    }
  }
  return true;
}

type Rng = ReturnType<typeof prng>;

interface Source {
  name: string;
  file: Uint8Array;
  header: string;
  data: Uint8Array;
}

function load(name: string): Source {
  const file = readGoldenFile(name);
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { name, file, header: new TextDecoder().decode(file.subarray(8, 8 + n)), data: file.subarray(8 + n) };
}

const WEIRD_NUMBERS: unknown[] = [-1, -4096, 0.5, 1.5, 1e20, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e308, -0, '0', '8', null, true, [], {}, 4294967296];
const WEIRD_SHAPES: unknown[] = [
  [1e9, 1e9], [2 ** 31, 2 ** 31, 2 ** 31], [2 ** 53 - 1, 2 ** 53 - 1], [-1], [1.5], ['2'], null, 5, [], [0], [[2]], [1e300], 'abc', {}, [2 ** 40, 0, 2 ** 40],
];
const DTYPES: unknown[] = [...Object.keys(BITS), 'F33', 'f32', '', 'float32', 123, null, '__proto__', 'toString', ['F32'], 'I32 '];

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Edits one field of the parsed header; returns the new header text and data. */
function editJson(rng: Rng, src: Source): { text: string; data: Uint8Array; kind: string } {
  const h = JSON.parse(src.header) as Record<string, any>;
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  const name = names.length ? rng.pick(names) : undefined;
  const t = name !== undefined ? h[name] : undefined;
  let data = src.data;
  const edits: [string, () => void][] = [
    ['offset-weird', () => t && (t.data_offsets[rng.int(2)] = rng.pick(WEIRD_NUMBERS))],
    ['offset-shift', () => t && (t.data_offsets[rng.int(2)] += rng.pick([-8, -4, -1, 1, 4, 8]))],
    ['offset-shape', () => t && (t.data_offsets = rng.pick<unknown>([[], [0], [0, 4, 8], '0,4', {}, null, [...t.data_offsets].reverse(), [t.data_offsets[0], t.data_offsets[0]]]))],
    ['offset-overlap', () => {
      if (t && names.length > 1) t.data_offsets = [...h[rng.pick(names)].data_offsets];
    }],
    ['offset-swap', () => {
      if (t && names.length > 1) {
        const u = h[rng.pick(names)];
        [t.data_offsets, u.data_offsets] = [u.data_offsets, t.data_offsets];
      }
    }],
    ['offset-all-shift', () => names.forEach((k) => (h[k].data_offsets = h[k].data_offsets.map((x: number) => x + 4)))],
    ['shape-weird', () => t && (t.shape = rng.pick(WEIRD_SHAPES))],
    ['shape-dim', () => t && t.shape.length && (t.shape[rng.int(t.shape.length)] = rng.pick([0, 1, 2, 3, -1, 1e15]))],
    ['shape-same-count', () => t && (t.shape = rng.pick([[...t.shape].reverse(), [...t.shape, 1], [1, ...t.shape]]))],
    ['dtype', () => t && (t.dtype = rng.pick(DTYPES))],
    ['dtype-resized', () => {
      // A different dtype with a shape that keeps the byte length: valid unless its values are out of range.
      if (!t) return;
      const bytes = t.data_offsets[1] - t.data_offsets[0];
      const dtype = rng.pick(['F16', 'BF16', 'I64', 'U64', 'U32', 'U8', 'I8', 'BOOL', 'F64', 'I16', 'U16', 'F32', 'I32', 'F8_E4M3']);
      const size = BITS[dtype] / 8;
      if (bytes % size === 0) {
        t.dtype = dtype;
        t.shape = [bytes / size];
      }
    }],
    ['drop-field', () => t && delete t[rng.pick(['dtype', 'shape', 'data_offsets'])]],
    ['entry', () => name !== undefined && (h[name] = rng.pick<unknown>([null, [], 'x', 3, {}, true]))],
    ['rename-metadata', () => name !== undefined && ((h.__metadata__ = t), delete h[name])],
    ['rename', () => name !== undefined && ((h[`${name}\u00e9`] = t), delete h[name])],
    ['add-empty', () => (h[`new${rng.int(9)}`] = { dtype: rng.pick(['F32', 'I64', 'BOOL']), shape: rng.pick([[0], [3, 0]]), data_offsets: rng.pick([[0, 0], [data.length, data.length], [4, 4]]) })],
    ['add-overlap', () => (h.extra = { dtype: 'U8', shape: [4], data_offsets: [0, 4] })],
    ['metadata', () => (h.__metadata__ = rng.pick<unknown>([null, {}, [], 'x', 5, { a: 1 }, { a: null }, { a: ['b'] }, { a: 'b' }, { ...(h.__metadata__ ?? {}), k: rng.pick<unknown>([1, 'v', {}]) }]))],
    ['top-level', () => {
      const replacement = rng.pick<unknown>([[], null, 1, 'str', [JSON.parse(JSON.stringify(h))]]);
      for (const k of Object.keys(h)) delete h[k];
      (h as any).__replacement = replacement;
    }],
    ['key-order', () => {
      const entries = shuffle(rng, Object.entries(h));
      for (const k of Object.keys(h)) delete h[k];
      for (const [k, v] of entries) h[k] = v;
    }],
    ['data-length', () => {
      const delta = rng.pick([-8, -4, -1, 1, 4, 8]);
      if (delta < 0) data = data.subarray(0, Math.max(0, data.length + delta));
      else {
        const grown = new Uint8Array(data.length + delta);
        grown.set(data);
        data = grown;
      }
    }],
  ];
  const [kind, edit] = rng.pick(edits);
  edit();
  let text = '__replacement' in h ? JSON.stringify((h as any).__replacement) : JSON.stringify(h);
  if (rng.next() < 0.5) text += ' '.repeat(rng.int(16)); // padding need not reach a multiple of 8
  return { text, data, kind };
}

function setLength(file: Uint8Array, n: bigint): Uint8Array {
  const out = file.slice();
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, n), true);
  return out;
}

function mutate(rng: Rng, src: Source): { variant: Uint8Array; kind: string } {
  const { file, header } = src;
  const n = header.length;
  const strategy = rng.int(10);
  if (strategy === 0) {
    // Random byte changes, mostly in the length prefix and header.
    const out = file.slice();
    const count = 1 + rng.int(4);
    for (let i = 0; i < count; i++) out[rng.int(Math.min(out.length, 8 + n + 64))] = rng.int(256);
    return { variant: out, kind: 'byte-flip' };
  }
  if (strategy === 1) {
    // Flips of bits that matter to JSON: quotes, brackets, digits, commas.
    const out = file.slice();
    const at = 8 + rng.int(n);
    out[at] = rng.pick([0x22, 0x5b, 0x5d, 0x7b, 0x7d, 0x2c, 0x3a, 0x2d, 0x2e, 0x30, 0x39, 0x65, 0x20, 0x00, 0xff, 0xc3, 0x80]);
    return { variant: out, kind: 'json-char' };
  }
  if (strategy === 2) return { variant: file.slice(0, rng.int(file.length)), kind: 'truncate' };
  if (strategy === 3) {
    const out = new Uint8Array(file.length + 1 + rng.int(16));
    out.set(file);
    return { variant: out, kind: 'append' };
  }
  if (strategy === 4) {
    const big = BigInt(n);
    const len = BigInt(file.length);
    const choice = rng.pick([0n, 1n, 7n, big - 1n, big + 1n, big - 8n, big + 8n, len - 8n, len, len - 7n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_000n, 100_000_001n, BigInt(rng.int(2 ** 32))]);
    return { variant: setLength(file, choice), kind: 'header-length' };
  }
  if (strategy === 5) {
    // Invalid UTF-8 or a byte-order mark in the header.
    const text = rng.next() < 0.5 ? `\ufeff${header}` : header;
    const bytes = assemble(text, src.data);
    if (text === header) bytes[8 + rng.int(n)] = rng.pick([0xff, 0xc3, 0xe2, 0x80]);
    return { variant: bytes, kind: 'utf8' };
  }
  // strategies 6-9: edits of the JSON fields, re-serialised with a consistent length.
  const { text, data, kind } = editJson(rng, src);
  const variant = assemble(text, data);
  if (strategy === 9 && rng.next() < 0.3) variant[rng.int(variant.length)] ^= 1 << rng.int(8);
  return { variant, kind: `json:${kind}` };
}

describe('safetensors mutation test', () => {
  it(`${VARIANTS} corrupted variants of real files end in a valid read or a SafetensorsError`, () => {
    const small = [
      'lfq_tiny/io.safetensors',
      'lfq_tiny/weights.safetensors',
      'fsq_tiny/io.safetensors',
      'fsq_tiny/weights.safetensors',
      'omagvit2_lfq_tiny/io.safetensors',
      'torch_ckpt_tiny/expected.safetensors',
      'vqgan_decoder_tiny/io.safetensors',
      'maskgit_tiny/io.safetensors',
    ].map(load);
    const large = ['titok_tiny/weights.safetensors', 'omagvit2_video_tiny/weights.safetensors'].map(load);
    const rng = prng(SEED);
    const outcomes = { valid: 0, errors: 0 };
    const errorKinds = new Set<string>();
    const kindsSeen = new Map<string, { valid: number; invalid: number }>();
    let slowest = 0;
    let peakGrowth = 0;
    const baseline = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (let i = 0; i < VARIANTS; i++) {
      const src = rng.next() < 0.05 ? rng.pick(large) : rng.pick(small);
      const { variant, kind } = mutate(rng, src);
      const expectValid = validByRules(variant);
      const t0 = performance.now();
      let ok = false;
      try {
        const { tensors } = readSafetensors(variant);
        ok = true;
        // Decoded sizes are bounded by the input (F16 doubles at most).
        const decoded = Object.values(tensors).reduce((a, t) => a + t.data.byteLength, 0);
        if (decoded > 2 * variant.length) throw new Error(`variant ${i} decoded ${decoded} bytes from ${variant.length}`);
      } catch (error) {
        if (!(error instanceof SafetensorsError)) {
          throw new Error(`variant ${i} (${src.name}, ${kind}) threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
        }
        if (error.message.length > 600) throw new Error(`variant ${i}: message of ${error.message.length} characters`);
        errorKinds.add(error.message.replace(/tensor "[^"]*"/g, 'tensor').replace(/\d+/g, '#').slice(0, 40));
      }
      const elapsed = performance.now() - t0;
      slowest = Math.max(slowest, elapsed);
      if (ok !== expectValid) {
        throw new Error(`variant ${i} (${src.name}, ${kind}): reader ${ok ? 'accepted' : 'refused'} it, the rules say ${expectValid ? 'valid' : 'invalid'}`);
      }
      if (ok) outcomes.valid++;
      else outcomes.errors++;
      const k = kindsSeen.get(kind) ?? { valid: 0, invalid: 0 };
      if (ok) k.valid++;
      else k.invalid++;
      kindsSeen.set(kind, k);
      if (i % 50 === 0) peakGrowth = Math.max(peakGrowth, process.memoryUsage().arrayBuffers - baseline);
    }
    const total = performance.now() - started;
    if (process.env.VTOK_FUZZ_VERBOSE) console.log([...errorKinds].sort().join('\n'), Object.fromEntries(kindsSeen));
    // Both outcomes occur, through many different failure paths.
    expect(outcomes.valid).toBeGreaterThan(100);
    expect(outcomes.errors).toBeGreaterThan(VARIANTS / 2);
    expect(errorKinds.size).toBeGreaterThan(25);
    expect(kindsSeen.size).toBeGreaterThan(20);
    // No hang, no huge allocation.
    expect(slowest).toBeLessThan(500);
    expect(total).toBeLessThan(20_000);
    expect(peakGrowth).toBeLessThan(256 * 2 ** 20);
    console.log(
      `[safetensors fuzz] ${VARIANTS} variants in ${total.toFixed(0)} ms (slowest ${slowest.toFixed(1)} ms): ` +
        `${outcomes.valid} valid, ${outcomes.errors} SafetensorsError, ${errorKinds.size} distinct messages`,
    );
  });
});
