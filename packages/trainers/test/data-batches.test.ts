// batches(): seeded order, exact resume from a saved position, prefetch (with controlled promises), labels,
// token batches, leaks and typed errors.
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '@vtok/core';
import { expectError, expectNoLeak } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { batches, type BatchOptions, type DataPosition, type Dataset, epochOrder, type ImageExample, randomHorizontalFlip, type TokenExample } from '../src';
import { gatedDataset, indexedImages, indexOfImage, settle } from './data-helpers';

interface Seen {
  indices: number[];
  position: DataPosition;
  pixels: number[];
  labels?: number[];
}

/** The first `count` batches from `options`, read back and freed. */
async function take(dataset: Dataset<ImageExample>, options: BatchOptions<ImageExample>, count: number): Promise<Seen[]> {
  const out: Seen[] = [];
  if (count === 0) return out;
  for await (const b of batches(dataset, options)) {
    out.push({ indices: b.indices, position: b.position, pixels: Array.from(await b.images.data()), labels: b.labels ? Array.from(await b.labels.data()) : undefined });
    tf.dispose(b.labels ? [b.images, b.labels] : [b.images]);
    if (out.length === count) break;
  }
  return out;
}

describe('seeded order', () => {
  it('is the same permutation for the same (seed, epoch), another for another seed or epoch, and pinned', () => {
    const a = Array.from(epochOrder(50, 1234, 0, true));
    expect(Array.from(epochOrder(50, 1234, 0, true))).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(epochOrder(50, 1235, 0, true))).not.toEqual(a);
    expect(Array.from(epochOrder(50, 1234, 1, true))).not.toEqual(a);
    expect(Array.from(epochOrder(5, 3, 0, false))).toEqual([0, 1, 2, 3, 4]);
    // Pinned: a change of the order's derivation would silently change every resumed run.
    expect(Array.from(epochOrder(10, 42, 0, true))).toEqual([2, 3, 0, 8, 7, 6, 9, 1, 5, 4]);
    // Seeds past 32 bits are told apart too.
    expect(Array.from(epochOrder(50, 2 ** 40, 0, true))).not.toEqual(Array.from(epochOrder(50, 2 ** 40 + 2 ** 33, 0, true)));
  });

  it('two iterators with one seed yield the same batches; another seed other batches; every epoch covers the dataset once', async () => {
    const data = indexedImages(10);
    const options = { batchSize: 4, seed: 9, prefetch: 1 };
    const first = await take(data, options, 9);
    const again = await take(data, options, 9);
    expect(again).toEqual(first);
    const other = await take(data, { ...options, seed: 10 }, 9);
    expect(other.map((b) => b.indices)).not.toEqual(first.map((b) => b.indices));
    // 10 examples in batches of 4: 4, 4, 2 per epoch; the images are those of the listed indices.
    expect(first.map((b) => b.indices.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2]);
    for (const b of first) expect(b.indices).toEqual(b.indices.map((_, k) => indexOfImage(b.pixels, k * 6, 10)));
    for (let e = 0; e < 3; e++) {
      const epoch = first.slice(3 * e, 3 * e + 3).flatMap((b) => b.indices);
      expect([...epoch].sort((x, y) => x - y)).toEqual([...Array(10).keys()]);
      expect(epoch).toEqual(Array.from(epochOrder(10, 9, e, true)));
    }
    expect(first.map((b) => b.position)).toEqual([
      { epoch: 0, index: 4 },
      { epoch: 0, index: 8 },
      { epoch: 1, index: 0 },
      { epoch: 1, index: 4 },
      { epoch: 1, index: 8 },
      { epoch: 2, index: 0 },
      { epoch: 2, index: 4 },
      { epoch: 2, index: 8 },
      { epoch: 3, index: 0 },
    ]);
  });

  it('shuffle: false keeps the dataset order; dropLast leaves out the short batch; epochs ends the iterator', async () => {
    const data = indexedImages(5);
    const seen = await take(data, { batchSize: 2, shuffle: false, dropLast: true, epochs: 2 }, 100);
    expect(seen.map((b) => b.indices)).toEqual([
      [0, 1],
      [2, 3],
      [0, 1],
      [2, 3],
    ]);
    expect(seen.map((b) => b.position)).toEqual([
      { epoch: 0, index: 2 },
      { epoch: 1, index: 0 },
      { epoch: 1, index: 2 },
      { epoch: 2, index: 0 },
    ]);
    expect(seen[0].labels).toEqual([0, 1]);
  });
});

describe('resume from a position', () => {
  const cases: [string, BatchOptions<ImageExample>][] = [
    ['shuffled, with a seeded flip', { batchSize: 3, seed: 77, augment: randomHorizontalFlip() }],
    ['dropLast', { batchSize: 3, seed: 5, dropLast: true }],
    ['no prefetch, unshuffled', { batchSize: 4, shuffle: false, prefetch: 0 }],
  ];
  for (const [name, options] of cases) {
    it(`starting from any saved position yields exactly what the uninterrupted iterator yields from there (${name})`, async () => {
      const data = indexedImages(10);
      const all = await take(data, options, 12);
      for (let k = 1; k < all.length; k++) {
        // Through JSON, as a checkpoint keeps it.
        const start = JSON.parse(JSON.stringify(all[k - 1].position)) as DataPosition;
        const resumed = await take(data, { ...options, start }, all.length - k);
        expect(resumed, `resumed after batch ${k}`).toEqual(all.slice(k));
      }
    });
  }

  it('the flip is decided per (seed, epoch, example): the same whatever the batch size, and about half the time', async () => {
    const data = indexedImages(40);
    const augment = randomHorizontalFlip();
    const flipsOf = async (batchSize: number) => {
      const seen = await take(data, { batchSize, seed: 3, augment, epochs: 1 }, 100);
      const flipped = new Map<number, boolean>();
      // Unflipped rows increase left to right (see indexedImages).
      for (const b of seen) b.indices.forEach((i, k) => flipped.set(i, b.pixels[k * 6] > b.pixels[k * 6 + 2]));
      return flipped;
    };
    const a = await flipsOf(4);
    expect(await flipsOf(7)).toEqual(a);
    const count = [...a.values()].filter(Boolean).length;
    expect(count).toBeGreaterThan(8);
    expect(count).toBeLessThan(32);
  });

  it('a position in the middle of a batch, or at the end of an epoch, is valid', async () => {
    const data = indexedImages(10);
    const seen = await take(data, { batchSize: 4, seed: 1, start: { epoch: 2, index: 5 } }, 2);
    const order = Array.from(epochOrder(10, 1, 2, true));
    expect(seen[0].indices).toEqual(order.slice(5, 9));
    expect(seen[1].indices).toEqual(order.slice(9));
    const atEnd = await take(data, { batchSize: 4, seed: 1, start: { epoch: 0, index: 10 } }, 1);
    expect(atEnd[0].indices).toEqual(Array.from(epochOrder(10, 1, 1, true)).slice(0, 4));
    expect(await take(data, { batchSize: 4, seed: 1, start: { epoch: 3, index: 0 }, epochs: 3 }, 5)).toEqual([]);
  });
});

describe('prefetch', () => {
  it('fetches the next `prefetch` batches while the consumer holds one, and no more', async () => {
    const g = gatedDataset(20);
    const it = batches(g.dataset, { batchSize: 2, shuffle: false, prefetch: 2 });
    const first = it.next();
    await settle();
    // The batch asked for and two more are being fetched.
    expect(g.calls).toEqual([0, 1, 2, 3, 4, 5]);
    g.release(0, 1);
    const b1 = (await first).value!;
    expect(b1.indices).toEqual([0, 1]);
    // While the consumer works on batch 1, batches 2 and 3 complete in the background.
    g.release(2, 3, 4, 5);
    await settle();
    expect(g.resolved()).toBe(6);
    expect(g.calls).toEqual([0, 1, 2, 3, 4, 5]);
    // Asking for batch 2 (ready) starts batch 4.
    const b2 = (await it.next()).value!;
    expect(b2.indices).toEqual([2, 3]);
    expect(g.calls).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    tf.dispose([b1.images, b1.labels!, b2.images, b2.labels!]);
    await it.return();
  });

  it('prefetch 0 fetches a batch only when it is asked for', async () => {
    const g = gatedDataset(8);
    g.release(...Array(8).keys());
    const it = batches(g.dataset, { batchSize: 2, shuffle: false, prefetch: 0 });
    const b1 = (await it.next()).value!;
    await settle();
    expect(g.calls).toEqual([0, 1]);
    tf.dispose([b1.images, b1.labels!]);
    await it.return();
  });

  it('a prefetched batch that fails surfaces when it is reached, not while the consumer holds an earlier one', async () => {
    const g = gatedDataset(8);
    g.failAt(3, new Error('disk read failed for 3'));
    g.release(...Array(8).keys());
    const it = batches(g.dataset, { batchSize: 2, shuffle: false, prefetch: 2 });
    const b1 = (await it.next()).value!;
    await settle();
    tf.dispose([b1.images, b1.labels!]);
    await expect(it.next()).rejects.toThrow('disk read failed for 3');
  });

  it('leaving early leaves no tensor behind and nothing unhandled', async () => {
    const data = indexedImages(30);
    await expectNoLeak(async () => {
      const out: tf.Tensor[] = [];
      for await (const b of batches(data, { batchSize: 4, seed: 2, prefetch: 3 })) {
        out.push(b.images, b.labels!);
        if (out.length === 6) break;
      }
      return out;
    }, 'batches');
  });
});

describe('batch contents', () => {
  it('images are float32 [B, H, W, C] in the example layout, labels int32 [B]; unlabelled datasets give no labels', async () => {
    const it = batches(indexedImages(6), { batchSize: 4, shuffle: false });
    const { value } = await it.next();
    expect(value!.images.shape).toEqual([4, 2, 3, 1]);
    expect(value!.images.dtype).toBe('float32');
    expect(value!.labels!.dtype).toBe('int32');
    expect(Array.from(await value!.labels!.data())).toEqual([0, 1, 2, 3]);
    expect(Array.from(await value!.images.data()).slice(6, 12)).toEqual(Array.from((await indexedImages(6).get(1)).image));
    tf.dispose([value!.images, value!.labels!]);
    await it.return();

    const unlabelled = batches(indexedImages(3, { labels: false }), { batchSize: 3 });
    const u = (await unlabelled.next()).value!;
    expect(u.labels).toBeUndefined();
    u.images.dispose();
    await unlabelled.return();
  });

  it('token examples give int32 [B, L] token batches', async () => {
    const tokens: Dataset<TokenExample> = { length: 5, get: async (i) => ({ tokens: Int32Array.from([i, i + 10, i + 20]), label: i }) };
    const it = batches(tokens, { batchSize: 2, shuffle: false });
    const b = (await it.next()).value!;
    expect(b.tokens.shape).toEqual([2, 3]);
    expect(b.tokens.dtype).toBe('int32');
    expect(Array.from(await b.tokens.data())).toEqual([0, 10, 20, 1, 11, 21]);
    expect(Array.from(await b.labels!.data())).toEqual([0, 1]);
    tf.dispose([b.tokens, b.labels!]);
    await it.return();
  });
});

describe('typed errors', () => {
  const data = indexedImages(5);
  it('bad options throw at the call', async () => {
    await expectError(() => batches(data, { batchSize: 0 }), ValueError, /batchSize must be a positive integer, got 0/);
    await expectError(() => batches(data, { batchSize: 2, seed: 1.5 }), ValueError, /seed must be a safe integer, got 1.5/);
    await expectError(() => batches(data, { batchSize: 2, prefetch: -1 }), ValueError, /prefetch must be a non-negative integer/);
    await expectError(() => batches(data, { batchSize: 2, epochs: 0 }), ValueError, /epochs must be a positive integer/);
    await expectError(() => batches(data, { batchSize: 2, start: { epoch: 0, index: 6 } }), ValueError, /index in \[0, 5\].*got \{"epoch":0,"index":6\}/);
    await expectError(() => batches(data, { batchSize: 2, start: { epoch: -1, index: 0 } }), ValueError, /epoch >= 0/);
    await expectError(() => batches(data, { batchSize: 6, dropLast: true }), ValueError, /batchSize 6 is larger than the dataset \(5 examples\)/);
    await expectError(() => batches({ length: 0, get: data.get }, { batchSize: 2 }), ValueError, /dataset length must be a positive integer, got 0/);
  });

  it('examples that do not stack are a typed error naming the dataset index, and free what was made', async () => {
    const mixed: Dataset<ImageExample> = {
      length: 2,
      get: async (i) => ({ image: new Float32Array(i === 0 ? 6 : 8), shape: i === 0 ? [2, 3, 1] : [2, 4, 1], label: 0 }),
    };
    await expectError(() => batches(mixed, { batchSize: 2, shuffle: false }).next(), ShapeError, /dataset index 1 is \[2, 4, 1\], index 0 is \[2, 3, 1\]/);
    const wrongLength: Dataset<ImageExample> = { length: 1, get: async () => ({ image: new Float32Array(5), shape: [2, 3, 1] }) };
    await expectError(() => batches(wrongLength, { batchSize: 1 }).next(), ShapeError, /expected a Float32Array of 6 values for shape \[2, 3, 1\], got 5 values/);
    const halfLabelled: Dataset<ImageExample> = { length: 2, get: async (i) => ({ image: new Float32Array(6), shape: [2, 3, 1], ...(i ? { label: 1 } : {}) }) };
    await expectError(() => batches(halfLabelled, { batchSize: 2, shuffle: false }).next(), ValueError, /dataset index 0 has none/);
    const badLabel: Dataset<ImageExample> = { length: 1, get: async () => ({ image: new Float32Array(6), shape: [2, 3, 1], label: -1 }) };
    await expectError(() => batches(badLabel, { batchSize: 1 }).next(), ValueError, /label of dataset index 0 must be an integer >= 0, got -1/);
    const notExamples = { length: 1, get: async () => ({ pixels: [1] }) } as unknown as Dataset<ImageExample>;
    await expectError(() => batches(notExamples, { batchSize: 1 }).next(), ValueError, /expected an example \{ image, shape, label\? \} or \{ tokens, label\? \}, got an object with keys pixels/);
  });
});
