/**
 * Mutation test of the checkpoint reader: thousands of corrupted variants of the golden torch.save files
 * (and of a legacy-format file): flipped bytes in the archive, its directory and its pickle, truncations,
 * pickles mutated and repacked with valid CRCs so the pickle machine itself is exercised, removed or
 * shortened storages. Each variant must end in a successful read (with consistent tensors) or in a typed
 * vtok error (TorchCheckpointError / PickleSecurityError): never another exception, a hang, a crash or a
 * large allocation. Seeded, so a failure names a reproducible variant.
 */
import { describe, expect, it } from 'vitest';
import {
  isPickleDict,
  PickleSecurityError,
  readTorchCheckpoint,
  selectTorchStateDict,
  TorchCheckpointError,
  TorchTensor,
  torchTensorsToRaw,
  type PickleValue,
} from '../src';
import { ZipArchive } from '../src/torch/zip';
import { prng } from '@vtok/test-utils';
import { stateDictPickle, torchFixture, writeTorchLegacy, writeZip, type TensorSpec } from './torch-helpers';

const SEED = 20250607;
const VARIANTS = 4000;

type Rng = ReturnType<typeof prng>;

interface Source {
  name: string;
  file: Uint8Array;
  /** Zip sources: the entries, in order, for repacking. */
  entries?: [string, Uint8Array][];
}

function zipSource(name: string): Source {
  const file = torchFixture(name);
  const zip = new ZipArchive(file);
  const entries = [...zip.entries.keys()].map((n): [string, Uint8Array] => [n, zip.read(n, true).slice()]);
  return { name, file, entries };
}

function legacySource(): Source {
  const tensors: Record<string, TensorSpec> = {
    w: { storage: '0', dtype: 'float32', shape: [2, 3] },
    wt: { storage: '0', dtype: 'float32', shape: [3, 2], stride: [1, 3] },
    ids: { storage: '1', dtype: 'int64', shape: [3] },
    h: { storage: '2', dtype: 'float16', shape: [2] },
  };
  const storages = {
    '0': { dtype: 'float32', bytes: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer) },
    '1': { dtype: 'int64', bytes: new Uint8Array(new BigInt64Array([1n, -2n, 3n]).buffer) },
    '2': { dtype: 'float16', bytes: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) },
  };
  const info = { '0': { dtype: 'float32', numel: 6 }, '1': { dtype: 'int64', numel: 3 }, '2': { dtype: 'float16', numel: 2 } };
  return { name: 'legacy', file: writeTorchLegacy(stateDictPickle(tensors, info, true), storages) };
}

const OPCODES = [0x28, 0x2e, 0x30, 0x31, 0x32, 0x4a, 0x4b, 0x4d, 0x4e, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x65, 0x68, 0x6a, 0x71, 0x72, 0x73, 0x74, 0x75, 0x7d, 0x29, 0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8f, 0x90, 0x91, 0x93, 0x94, 0x95, 0x47, 0x42, 0x43, 0x54, 0x55, 0x69, 0x6f, 0x92, 0x82, 0xff];

function flip(rng: Rng, bytes: Uint8Array, from = 0, to = bytes.length): Uint8Array {
  const out = bytes.slice();
  const count = 1 + rng.int(3);
  for (let i = 0; i < count; i++) {
    const at = from + rng.int(Math.max(1, to - from));
    if (rng.next() < 0.5) out[at] ^= 1 << rng.int(8);
    else out[at] = rng.int(256);
  }
  return out;
}

/** Edits of a pickle's bytes that keep most of its structure. */
function mutatePickle(rng: Rng, p: Uint8Array): { bytes: Uint8Array; kind: string } {
  const at = rng.int(p.length);
  switch (rng.int(7)) {
    case 0:
      return { bytes: flip(rng, p), kind: 'pickle-flip' };
    case 1: {
      const out = p.slice();
      out[at] = rng.pick(OPCODES);
      return { bytes: out, kind: 'pickle-opcode' };
    }
    case 2: {
      const n = 1 + rng.int(8);
      return { bytes: concat(p.subarray(0, at), p.subarray(Math.min(p.length, at + n))), kind: 'pickle-delete' };
    }
    case 3: {
      const from = rng.int(p.length);
      const chunk = p.subarray(from, from + 1 + rng.int(40));
      return { bytes: concat(p.subarray(0, at), chunk, p.subarray(at)), kind: 'pickle-duplicate' };
    }
    case 4:
      return { bytes: p.subarray(0, at), kind: 'pickle-truncate' };
    case 5: {
      // Small integer arguments (sizes, strides, offsets, numel, memo indices) changed.
      const out = p.slice();
      const ints = [...out.keys()].filter((i) => (out[i] === 0x4b || out[i] === 0x68 || out[i] === 0x71) && i + 1 < out.length);
      if (ints.length) out[rng.pick(ints) + 1] = rng.pick([0, 1, 2, 3, 7, 8, 24, 127, 128, 200, 255]);
      return { bytes: out, kind: 'pickle-int' };
    }
    default: {
      // Text of a GLOBAL or string changed by one character.
      const out = p.slice();
      const letters = [...out.keys()].filter((i) => out[i] >= 0x61 && out[i] <= 0x7a);
      if (letters.length) out[rng.pick(letters)] = rng.pick([0x61, 0x5f, 0x2e, 0x0a, 0x53]);
      return { bytes: out, kind: 'pickle-text' };
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(rng: Rng, src: Source): { variant: Uint8Array; kind: string; mustFail: boolean } {
  const { file } = src;
  const strategy = rng.int(src.entries ? 10 : 4);
  if (strategy === 0) return { variant: flip(rng, file), kind: 'flip', mustFail: false };
  if (strategy === 1) return { variant: file.subarray(0, rng.int(file.length)), kind: 'truncate', mustFail: true };
  if (strategy === 2) return { variant: concat(file, Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256))), kind: 'append', mustFail: false };
  if (strategy === 3) {
    // The structure-heavy region: for a zip its directory and end records, for a legacy file its pickles.
    const zip = !!src.entries;
    const from = zip ? Math.max(0, file.length - 1600) : 0;
    const to = zip ? file.length : Math.min(file.length, 1200);
    return { variant: flip(rng, file, from, to), kind: 'structure-flip', mustFail: false };
  }
  const entries = src.entries!.map(([n, b]): [string, Uint8Array] => [n, b]);
  const pickleIndex = entries.findIndex(([n]) => n.endsWith('/data.pkl'));
  if (strategy <= 7) {
    const { bytes, kind } = mutatePickle(rng, entries[pickleIndex][1]);
    entries[pickleIndex] = [entries[pickleIndex][0], bytes];
    return { variant: writeZip(entries, { zip64: rng.next() < 0.5 }), kind, mustFail: false };
  }
  const dataIndices = entries.map(([n], i) => (n.includes('/data/') ? i : -1)).filter((i) => i >= 0);
  const i = rng.pick(dataIndices);
  if (strategy === 8) {
    entries[i] = [entries[i][0], entries[i][1].subarray(0, rng.int(entries[i][1].length))];
    return { variant: writeZip(entries), kind: 'storage-short', mustFail: false };
  }
  if (rng.next() < 0.5) entries.splice(i, 1);
  else entries[i] = [entries[i][0].replace('/data/', '/data/x'), entries[i][1]];
  return { variant: writeZip(entries), kind: 'storage-missing', mustFail: true };
}

/** Every TorchTensor reachable from `root` (cycle-safe, bounded), checked for consistent data. */
function checkTensors(root: PickleValue, variant: number): number {
  const seen = new Set<unknown>();
  const queue: unknown[] = [root];
  let bytes = 0;
  while (queue.length && seen.size < 10_000) {
    const v = queue.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof TorchTensor) {
      const n = v.shape.reduce((a, b) => a * b, 1);
      if (v.data.length !== n) throw new Error(`variant ${variant}: tensor [${v.shape}] has ${v.data.length} values`);
      bytes += v.data.byteLength;
    } else if (Array.isArray(v) || v instanceof Set) queue.push(...v);
    else if (isPickleDict(v)) queue.push(...Object.values(v));
  }
  return bytes;
}

describe('torch checkpoint mutation test', () => {
  it(`${VARIANTS} corrupted variants end in a consistent read or a typed error`, () => {
    const sources = [zipSource('model.ckpt'), zipSource('plain.bin'), legacySource()];
    const rng = prng(SEED);
    const outcomes = { read: 0, checkpointError: 0, securityError: 0 };
    const messages = new Set<string>();
    const kinds = new Map<string, { read: number; error: number }>();
    let slowest = 0;
    let peakGrowth = 0;
    const baseline = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (let i = 0; i < VARIANTS; i++) {
      const src = rng.pick(sources);
      const { variant, kind, mustFail } = mutate(rng, src);
      const t0 = performance.now();
      let ok = false;
      try {
        const root = readTorchCheckpoint(variant);
        const decoded = checkTensors(root, i);
        if (decoded > 4 * variant.length + 64 * 2 ** 20) throw new Error(`variant ${i} decoded ${decoded} bytes from ${variant.length}`);
        // What a loader does next must fail only in typed ways too.
        try {
          torchTensorsToRaw(selectTorchStateDict(root).tensors);
        } catch (error) {
          if (!(error instanceof TorchCheckpointError)) throw error;
        }
        ok = true;
      } catch (error) {
        if (error instanceof PickleSecurityError) outcomes.securityError++;
        else if (error instanceof TorchCheckpointError) outcomes.checkpointError++;
        else throw new Error(`variant ${i} (${src.name}, ${kind}) threw ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
        const message = (error as Error).message;
        if (message.length > 800) throw new Error(`variant ${i}: a message of ${message.length} characters`);
        messages.add(message.replace(/"[^"]*"/g, '""').replace(/\d+/g, '#').slice(0, 60));
      }
      if (ok && mustFail) throw new Error(`variant ${i} (${src.name}, ${kind}) was read although it cannot be valid`);
      if (ok) outcomes.read++;
      const k = kinds.get(kind) ?? { read: 0, error: 0 };
      k[ok ? 'read' : 'error']++;
      kinds.set(kind, k);
      slowest = Math.max(slowest, performance.now() - t0);
      if (i % 50 === 0) peakGrowth = Math.max(peakGrowth, process.memoryUsage().arrayBuffers - baseline);
    }
    const total = performance.now() - started;
    if (process.env.VTOK_FUZZ_VERBOSE) console.log([...messages].sort().join('\n'), Object.fromEntries(kinds));
    // Both outcomes occur, through many different failure paths, for every kind of mutation.
    expect(outcomes.read).toBeGreaterThan(200);
    expect(outcomes.checkpointError).toBeGreaterThan(VARIANTS / 3);
    expect(outcomes.securityError).toBeGreaterThan(5);
    expect(messages.size).toBeGreaterThan(40);
    expect(kinds.size).toBe(13);
    // No hang, no huge allocation.
    expect(slowest).toBeLessThan(500);
    expect(total).toBeLessThan(30_000);
    expect(peakGrowth).toBeLessThan(256 * 2 ** 20);
    console.log(
      `[torch fuzz] ${VARIANTS} variants in ${total.toFixed(0)} ms (slowest ${slowest.toFixed(1)} ms): ${outcomes.read} read, ` +
        `${outcomes.checkpointError} TorchCheckpointError, ${outcomes.securityError} PickleSecurityError, ${messages.size} distinct messages`,
    );
  });
});
