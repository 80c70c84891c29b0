/** safetensors <-> tf.Tensor on every backend: values survive, async reads only, nothing leaks. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { readSafetensors, readSafetensorsAsTensors, writeSafetensors } from '../src';
import { readGoldenFile } from '@vtok/test-utils';

describe(`safetensors on ${process.env.VTOK_TEST_BACKEND ?? 'cpu'}`, () => {
  it('writes backend tensors and reads them back as tensors, without leaking', async () => {
    const before = tf.memory().numTensors;
    const source = {
      x: tf.tensor3d([1.5, -2, 3, 4, 5, 6e-8, -7, 8e7], [2, 2, 2]),
      ids: tf.tensor1d([0, -1, 2147483647, -2147483648], 'int32'),
      mask: tf.tensor1d([true, false, true], 'bool'),
      s: tf.scalar(0.25),
      empty: tf.zeros([0, 3]),
    };
    const bytes = await writeSafetensors(source, { kind: 'test' });
    expect(tf.memory().numTensors).toBe(before + 5);
    const back = readSafetensorsAsTensors(bytes);
    for (const [name, t] of Object.entries(source)) {
      expect(back[name].dtype, name).toBe(t.dtype);
      expect(back[name].shape, name).toEqual(t.shape);
      expect(Array.from(await back[name].data()), name).toEqual(Array.from(await t.data()));
    }
    // Written again from the read-back tensors: byte-identical.
    expect(Buffer.from(await writeSafetensors(back, readSafetensors(bytes).metadata)).equals(Buffer.from(bytes))).toBe(true);
    tf.dispose(Object.values(back));
    tf.dispose(Object.values(source));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads a real checkpoint onto the backend and writes it back', async () => {
    const bytes = readGoldenFile('lfq_tiny/io.safetensors');
    const raw = readSafetensors(bytes);
    const before = tf.memory().numTensors;
    const tensors = readSafetensorsAsTensors(bytes);
    const written = await writeSafetensors(tensors, raw.metadata);
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
    const again = readSafetensors(written);
    for (const [name, t] of Object.entries(raw.tensors)) {
      expect(again.tensors[name].shape, name).toEqual(t.shape);
      expect(Buffer.from(again.tensors[name].data.buffer, again.tensors[name].data.byteOffset, again.tensors[name].data.byteLength).equals(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      ), name).toBe(true);
    }
  });
});
