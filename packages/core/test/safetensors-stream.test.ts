// Streaming safetensors: the piecewise writer gives writeSafetensors' exact bytes, the tensor-by-tensor
// reader gives readSafetensors' tensors from bytes, chunked web streams and files, and both refuse bad
// input with SafetensorsError (truncation, a stream read twice, lazy values of the wrong size).
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LazyTensorInput,
  type RawTensor,
  type RawTensorInput,
  SafetensorsError,
  loadSafetensors,
  openSafetensorsStream,
  readExactlyFromBytes,
  readExactlyFromFile,
  readExactlyFromStream,
  readSafetensors,
  safetensorsSize,
  saveSafetensorsFile,
  writeSafetensors,
  writeSafetensorsStream,
} from '../src';

const tensors: Record<string, RawTensorInput | LazyTensorInput> = {
  'b.weight': { dtype: 'float32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5) },
  'a.count': { dtype: 'int32', shape: [2], data: Int32Array.of(-3, 2 ** 30) },
  mask: { dtype: 'bool', shape: [5], data: Uint8Array.of(1, 0, 0, 1, 1) },
  // Produced only when written, as a model's transposed conv kernels are.
  'c.lazy': { dtype: 'float32', shape: [2, 2], read: async () => Float32Array.of(1.5, -2, 0.25, 8) },
  empty: { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
};
const metadata = { format: 'pt', note: 'streamed' };

async function streamed(): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const size = await writeSafetensorsStream(tensors, metadata, async (b) => {
    parts.push(b.slice());
  });
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  expect(at).toBe(size);
  return out;
}

/** A web stream that delivers `bytes` in chunks of `chunk` bytes. */
function chunked(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

async function collect(read: Parameters<typeof openSafetensorsStream>[0], totalBytes?: number) {
  const stream = await openSafetensorsStream(read, { where: 'test.safetensors', totalBytes });
  const got: Record<string, { dtype: string; shape: number[]; data: number[] }> = {};
  await stream.forEach((info, t) => {
    got[info.name] = { dtype: t.dtype, shape: t.shape, data: Array.from(t.data) };
  });
  return { got, metadata: stream.header.metadata };
}

const plain = (file: Record<string, RawTensor>) =>
  Object.fromEntries(Object.entries(file).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: Array.from(t.data) }]));

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'vtok-st-stream-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('writeSafetensorsStream', () => {
  it('writes exactly the bytes writeSafetensors does, and says their size first', async () => {
    const whole = await writeSafetensors(tensors, metadata);
    expect(Array.from(await streamed())).toEqual(Array.from(whole));
    expect(safetensorsSize(tensors, metadata)).toBe(whole.byteLength);
  });

  it('refuses lazy values of the wrong length or type', async () => {
    const sink = async () => undefined;
    await expect(writeSafetensorsStream({ x: { dtype: 'float32', shape: [3], read: async () => new Float32Array(2) } }, undefined, sink)).rejects.toThrow(
      /tensor "x": got 2 values for shape \[3\]/,
    );
    await expect(writeSafetensors({ x: { dtype: 'int32', shape: [2], read: async () => new Float32Array(2) } })).rejects.toThrow(/read\(\) gave a Float32Array, expected a Int32Array/);
  });
});

describe('openSafetensorsStream', () => {
  it('reads the tensors readSafetensors reads, from bytes and from a stream in 7-byte chunks', async () => {
    const bytes = await streamed();
    const want = plain(readSafetensors(bytes).tensors);
    expect(want['c.lazy']!.data).toEqual([1.5, -2, 0.25, 8]);
    const fromBytes = await collect(readExactlyFromBytes(bytes), bytes.byteLength);
    expect(fromBytes.got).toEqual(want);
    expect(fromBytes.metadata).toEqual(metadata);
    expect((await collect(readExactlyFromStream(chunked(bytes, 7)))).got).toEqual(want);
  });

  it('reads from a file handle, and loadSafetensors streams files above a size', async () => {
    const path = join(folder, 'model.safetensors');
    await saveSafetensorsFile(path, tensors, metadata);
    const want = plain(readSafetensors(await writeSafetensors(tensors, metadata)).tensors);
    const handle = await open(path, 'r');
    try {
      expect((await collect(readExactlyFromFile(handle), (await handle.stat()).size)).got).toEqual(want);
    } finally {
      await handle.close();
    }
    const streamedLoad = await loadSafetensors(path, { streamAboveBytes: 16 });
    expect(plain(streamedLoad.tensors)).toEqual(want);
    expect(Object.keys(streamedLoad.tensors)).toEqual(Object.keys(want));
    expect(streamedLoad.metadata).toEqual(metadata);
  });

  it('refuses truncated files, with and without the size known, and a second pass', async () => {
    const bytes = await streamed();
    const cut = bytes.subarray(0, bytes.byteLength - 5);
    await expect(collect(readExactlyFromBytes(cut), cut.byteLength)).rejects.toThrow(SafetensorsError);
    await expect(collect(readExactlyFromBytes(cut), cut.byteLength)).rejects.toThrow(/test\.safetensors: .*out of range of the/);
    await expect(collect(readExactlyFromBytes(cut))).rejects.toThrow(/test\.safetensors: file ends inside tensor "[^"]+" \(\d+ of its \d+ bytes\)/);
    await expect(collect(readExactlyFromBytes(bytes.subarray(0, 5)))).rejects.toThrow(/shorter than the 8-byte header length/);
    await expect(collect(readExactlyFromBytes(bytes.subarray(0, 20)))).rejects.toThrow(/reaches past the end of the file/);
    const stream = await openSafetensorsStream(readExactlyFromBytes(bytes));
    await stream.forEach(() => undefined);
    await expect(stream.forEach(() => undefined)).rejects.toThrow(/can be read only once/);
  });

  it('refuses a header that is not valid UTF-8 or JSON', async () => {
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 8n, true);
    bad.set([0xff, 0xfe, 0x7b, 0x7d, 0x20, 0x20, 0x20, 0x20], 8);
    await expect(collect(readExactlyFromBytes(bad))).rejects.toThrow(/header is not valid UTF-8/);
    bad.set([0x7b, 0x7b, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20], 8);
    await expect(collect(readExactlyFromBytes(bad))).rejects.toThrow(/header is not valid JSON/);
  });
});

describe('saveSafetensorsFile', () => {
  it('leaves the previous file in place when a lazy tensor fails while streaming', async () => {
    const path = join(folder, 'keep.safetensors');
    await writeFile(path, await writeSafetensors({ old: { dtype: 'int32', shape: [1], data: Int32Array.of(7) } }));
    const failing = { ...tensors, 'z.broken': { dtype: 'float32' as const, shape: [2], read: async () => Promise.reject(new Error('disk on fire')) } };
    await expect(saveSafetensorsFile(path, failing)).rejects.toThrow(/disk on fire/);
    const kept = await loadSafetensors(path);
    expect(Array.from(kept.tensors.old!.data)).toEqual([7]);
  });
});
