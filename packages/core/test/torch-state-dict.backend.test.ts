/**
 * loadTorchStateDict on every backend: the golden torch.save files (torch_ckpt_tiny) become tf.Tensors
 * whose values equal expected.safetensors exactly (floats as float32, integers as int32, bools as bool),
 * with the EMA weights chosen by default; from bytes, a path and a file URL; nothing leaks.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { goldenPath } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { torchFixture } from './torch-helpers';
import { loadTorchCheckpoint, loadTorchStateDict, readSafetensors, TorchCheckpointError, type PickleDict } from '../src';

const expected = readSafetensors(torchFixture('expected.safetensors')).tensors;
const modelKeys = Object.keys(expected).filter((k) => !k.startsWith('model_ema.'));
const emaName = (k: string) => `model_ema.${k.replace(/\./g, '')}`;

/** Exact equality with the reference: float32 bit patterns, int32 values, bools as 0/1. */
async function expectExact(name: string, got: tf.Tensor, refName: string): Promise<void> {
  const ref = expected[refName];
  expect(got.shape, name).toEqual(ref.shape);
  const values = await got.data();
  if (ref.dtype === 'float32') {
    expect(got.dtype, name).toBe('float32');
    const a = new Uint32Array(Float32Array.from(values as Float32Array).buffer);
    const b = new Uint32Array(ref.data.buffer, ref.data.byteOffset, ref.data.length);
    expect(Array.from(a), name).toEqual(Array.from(b));
  } else {
    expect(['int32', 'bool'], name).toContain(got.dtype);
    expect(Array.from(values as Int32Array | Uint8Array), name).toEqual(Array.from(ref.data));
  }
}

describe(`loadTorchStateDict on ${process.env.VTOK_TEST_BACKEND ?? 'cpu'}`, () => {
  it('loads the Lightning checkpoint with its EMA weights, exactly, without leaking', async () => {
    const before = tf.memory().numTensors;
    const tensors = await loadTorchStateDict(goldenPath('torch_ckpt_tiny', 'model.ckpt'));
    expect(Object.keys(tensors)).toEqual(modelKeys);
    for (const name of modelKeys) await expectExact(name, tensors[name], expected[emaName(name)] ? emaName(name) : name);
    expect(tensors['quantize.mask'].dtype).toBe('int32'); // int64 in the file
    expect(tensors['decoder.flag'].dtype).toBe('bool');
    expect(tf.memory().numTensors).toBe(before + modelKeys.length);
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads the raw weights with preferEma: false (float16 and bfloat16 widened exactly)', async () => {
    const tensors = await loadTorchStateDict(torchFixture('model.ckpt'), { preferEma: false });
    for (const name of modelKeys) await expectExact(name, tensors[name], name);
    tf.dispose(Object.values(tensors));
  });

  it('loads a bare state dict from a file URL and the same from bytes', async () => {
    const before = tf.memory().numTensors;
    const fromUrl = await loadTorchStateDict(pathToFileURL(goldenPath('torch_ckpt_tiny', 'plain.bin')));
    const fromBytes = await loadTorchStateDict(torchFixture('plain.bin').slice().buffer);
    expect(Object.keys(fromUrl)).toEqual(modelKeys);
    for (const name of modelKeys) {
      await expectExact(name, fromUrl[name], name);
      await expectExact(name, fromBytes[name], name);
    }
    tf.dispose([...Object.values(fromUrl), ...Object.values(fromBytes)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports unreadable sources as TorchCheckpointError and allocates nothing', async () => {
    const before = tf.memory().numTensors;
    await expect(loadTorchStateDict(goldenPath('torch_ckpt_tiny', 'case.json'))).rejects.toBeInstanceOf(TorchCheckpointError);
    await expect(loadTorchStateDict(torchFixture('model.ckpt').subarray(0, 5000))).rejects.toThrow(/bad zip archive/);
    const notFound = async () => ({ ok: false, status: 404, statusText: 'Not Found' }) as Response;
    await expect(loadTorchStateDict('https://example.invalid/x.ckpt', { fetch: notFound })).rejects.toThrow(/HTTP 404/);
    await expect(loadTorchStateDict(42 as never)).rejects.toThrow(/cannot load a checkpoint from number/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loadTorchCheckpoint returns the whole checkpoint, fetched through options.fetch', async () => {
    const bytes = torchFixture('model.ckpt');
    const fetch = async () => new Response(bytes.slice());
    const root = (await loadTorchCheckpoint('https://example.invalid/model.ckpt', { fetch })) as PickleDict;
    expect(root.global_step).toBe(4567);
  });
});
