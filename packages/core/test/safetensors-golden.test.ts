/**
 * The reader and writer on the real golden files (stored once in @vtok/test-utils' golden/). Values are checked
 * against two independent sources: stats.json (made by a Python standard-library parser, see the
 * README there) and a DataView parser in safetensors-helpers.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, type RawTensor } from '../src';
import { GOLDEN_DIR, goldenSafetensorsFiles, readGoldenFile } from '@vtok/test-utils';
import { referenceParse, wordsOf } from './safetensors-helpers';

interface TensorStats {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
  sha256: string;
  count: number;
  sum: number | string;
  min: number | string | null;
  max: number | string | null;
}
const stats = JSON.parse(readFileSync(join(GOLDEN_DIR, 'stats.json'), 'utf8')) as Record<
  string,
  { bytes: number; sha256: string; metadata_keys: string[]; tensors: Record<string, TensorStats> }
>;

const files = goldenSafetensorsFiles();

/** What case.json declares for a file: name -> { dtype, shape? }. */
function declared(relative: string): Record<string, { dtype: string; shape?: number[] }> {
  const [caseName, fileName] = relative.split('/');
  const c = JSON.parse(readFileSync(join(GOLDEN_DIR, caseName, 'case.json'), 'utf8'));
  if (c.dtypes) {
    // torch_ckpt_tiny: original torch dtypes; expected.safetensors stores floats as F32, ints and bools as I32.
    return Object.fromEntries(
      Object.entries(c.dtypes as Record<string, string>).map(([k, v]) => [k, { dtype: /float|bfloat/.test(v) ? 'F32' : 'I32' }]),
    );
  }
  for (const section of ['weights', 'io']) {
    if (c[section]?.file === fileName) return c[section].tensors;
  }
  throw new Error(`case.json of ${caseName} does not declare ${fileName}`);
}

/** Index of the first differing element, -1 if equal (a plain loop: deep equality on 400k elements is slow). */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function bytesOf(t: RawTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

describe('golden fixtures', () => {
  it('finds every fixture, intact', () => {
    expect(files.length).toBe(23);
    expect(Object.keys(stats).sort()).toEqual(files);
    for (const f of files) {
      const bytes = readGoldenFile(f);
      expect(bytes.byteLength, f).toBe(stats[f].bytes);
      expect(sha256(bytes), f).toBe(stats[f].sha256);
    }
  });

  it.each(files)('%s: names, shapes and dtypes are those case.json declares', (f) => {
    const { tensors, metadata } = readSafetensors(readGoldenFile(f));
    const expected = declared(f);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, d] of Object.entries(expected)) {
      const t = tensors[name];
      expect(t.sourceDtype, name).toBe(d.dtype);
      expect(t.dtype, name).toBe(d.dtype === 'F32' ? 'float32' : 'int32');
      if (d.shape) expect(t.shape, name).toEqual(d.shape);
      expect(t.data.length, name).toBe(t.shape.reduce((a, b) => a * b, 1));
    }
    expect(Object.keys(metadata).sort()).toEqual(stats[f].metadata_keys);
    if (f !== 'torch_ckpt_tiny/expected.safetensors') {
      expect(metadata.format).toBe('pt');
      expect(metadata.refgen_case).toBe(f.split('/')[0]);
      expect(() => JSON.parse(metadata.refgen_config)).not.toThrow();
    }
  });

  it.each(files)('%s: values agree with the Python stats and with a DataView parser', (f) => {
    const bytes = readGoldenFile(f);
    const { tensors, metadata } = readSafetensors(bytes);
    const ref = referenceParse(bytes);
    expect(metadata).toEqual(ref.metadata);
    const fileStats = stats[f].tensors;
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(fileStats).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const s = fileStats[name];
      expect(t.sourceDtype, name).toBe(s.dtype);
      expect(t.shape, name).toEqual(s.shape);
      expect(t.data.length, name).toBe(s.count);
      expect(sha256(bytesOf(t)), name).toBe(s.sha256);
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const v of t.data) {
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(sum, name).toBe(s.sum); // same float64 additions in the same order: exact
      if (s.count > 0) {
        expect(min, name).toBe(s.min);
        expect(max, name).toBe(s.max);
      }
      const r = ref.tensors.get(name)!;
      expect(t.shape, name).toEqual(r.shape);
      expect(firstDifference(wordsOf(t.data as Float32Array | Int32Array), r.words), name).toBe(-1);
    }
  });
});

/**
 * The layout the reference implementation writes, computed here from the rules (independently of the
 * writer): tensors sorted by dtype (F32 before I32 before BOOL) then name, offsets back to back,
 * `__metadata__` first with (our choice, the reference uses hash order) sorted keys, compact JSON,
 * space padding to a multiple of 8.
 */
function canonical(file: Uint8Array): Uint8Array {
  const { metadata, tensors } = referenceParse(file);
  const rank: Record<string, number> = { F32: 2, I32: 1, BOOL: 0 };
  const names = [...tensors.keys()].sort((a, b) => rank[tensors.get(b)!.dtype] - rank[tensors.get(a)!.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length) parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    const t = tensors.get(name)!;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + t.bytes.length}]}`);
    offset += t.bytes.length;
    chunks.push(t.bytes);
  }
  let header = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  header = Buffer.concat([header, Buffer.alloc((8 - (header.length % 8)) % 8, 0x20)]);
  const lengthPrefix = Buffer.alloc(8);
  lengthPrefix.writeBigUInt64LE(BigInt(header.length));
  return new Uint8Array(Buffer.concat([lengthPrefix, header, ...chunks]));
}

describe('golden round trips', () => {
  it.each(files)('%s: write(read(x)) has the reference layout and write -> read -> write is byte-identical', async (f) => {
    const original = readGoldenFile(f);
    const first = readSafetensors(original);
    const written = await writeSafetensors(first.tensors, first.metadata);
    // The golden files list tensors in insertion order, not the reference writer's order, so they are
    // not reproduced byte for byte; the same content in the canonical layout is.
    expect(Buffer.from(written).equals(Buffer.from(canonical(original)))).toBe(true);
    expect((8 + Number(new DataView(written.buffer).getBigUint64(0, true))) % 8).toBe(0);

    const second = readSafetensors(written);
    expect(second.metadata).toEqual(first.metadata);
    expect(Object.keys(second.tensors).sort()).toEqual(Object.keys(first.tensors).sort());
    for (const [name, t] of Object.entries(first.tensors)) {
      const u = second.tensors[name];
      expect(u.dtype, name).toBe(t.dtype);
      expect(u.sourceDtype, name).toBe(t.sourceDtype);
      expect(u.shape, name).toEqual(t.shape);
      expect(Buffer.from(bytesOf(u)).equals(Buffer.from(bytesOf(t))), name).toBe(true);
    }
    const rewritten = await writeSafetensors(second.tensors, second.metadata);
    expect(Buffer.from(rewritten).equals(Buffer.from(written))).toBe(true);
    // A file already in the canonical layout is reproduced exactly.
    expect(Buffer.from(await writeSafetensors(readSafetensors(canonical(original)).tensors, first.metadata)).equals(Buffer.from(written))).toBe(true);
  });
});
