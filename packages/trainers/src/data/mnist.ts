/**
 * MNIST digits from the `mnist` package (MIT; 10,000 28×28 digits, about 1,000 per class, shipped as JSON in
 * its tarball), an optional peer dependency imported on first use. The split is fixed: within each digit, every
 * 10th image (in the package's order, positions 9, 19, …) is `test`, the others `train`. The dataset
 * interleaves the classes in proportion, so any prefix (`limit`) holds every digit about equally often.
 */
import { ValueError } from '@vtok/core';
import { assertIndex, type Dataset, type ImageExample } from './dataset';
import { importOptional } from './optional';

/** What this module uses of the `mnist` package: one entry per digit, with `length` and `get(i)` (784 values in [0, 1]). */
export interface MnistPackage {
  readonly [digit: number]: { readonly length: number; get(index: number): ArrayLike<number> };
}

export interface MnistOptions {
  /** Default 'train'. */
  split?: 'train' | 'test' | 'all';
  /** 28 (as shipped) or 32 (zero-padded by 2 on each side, for patch sizes that divide 32). Default 28. */
  size?: 28 | 32;
  /** 1 (default) or 3 (the grey value repeated, for RGB tokenizers). */
  channels?: 1 | 3;
  /** At most this many images (the first of the interleaved order). */
  limit?: number;
  /** The imported `mnist` package; by default it is imported at run time (Node). */
  package?: MnistPackage;
}

const WHO = 'mnistDigits';
const SIDE = 28;
const TEST_EVERY = 10;

const inSplit = (split: MnistOptions['split'], j: number) => split === 'all' || (split === 'test') === (j % TEST_EVERY === TEST_EVERY - 1);

/** (digit, index in the package) pairs of the split, classes interleaved by their relative position. */
function interleave(counts: number[], split: MnistOptions['split']): { digit: number; index: number }[] {
  const entries: { digit: number; index: number; key: number }[] = [];
  counts.forEach((count, digit) => {
    const chosen: number[] = [];
    for (let j = 0; j < count; j++) if (inSplit(split, j)) chosen.push(j);
    chosen.forEach((index, rank) => entries.push({ digit, index, key: (rank + 0.5) / chosen.length }));
  });
  entries.sort((a, b) => a.key - b.key || a.digit - b.digit);
  return entries.map(({ digit, index }) => ({ digit, index }));
}

/** The digits as an image dataset: float32 [size, size, channels] in [0, 1], labels 0–9. */
export async function mnistDigits(options: MnistOptions = {}): Promise<Dataset<ImageExample>> {
  const { split = 'train', size = 28, channels = 1, limit } = options;
  if (split !== 'train' && split !== 'test' && split !== 'all') throw new ValueError(`${WHO}: split must be 'train', 'test' or 'all', got ${JSON.stringify(split)}`);
  if (size !== 28 && size !== 32) throw new ValueError(`${WHO}: size must be 28 or 32, got ${JSON.stringify(size)}`);
  if (channels !== 1 && channels !== 3) throw new ValueError(`${WHO}: channels must be 1 or 3, got ${JSON.stringify(channels)}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new ValueError(`${WHO}: limit must be a positive integer, got ${String(limit)}`);
  const digits = options.package ?? (await importOptional<MnistPackage>('mnist', WHO));
  const counts = Array.from({ length: 10 }, (_, d) => digits[d]?.length);
  if (!counts.every((n) => Number.isInteger(n) && n > 0)) {
    throw new ValueError(`${WHO}: the mnist package does not look as expected (10 digits, each with a length and get(i)); got lengths ${JSON.stringify(counts)}`);
  }
  const order = interleave(counts, split).slice(0, limit);
  const pad = (size - SIDE) / 2;
  return {
    length: order.length,
    async get(i) {
      assertIndex(i, order.length, WHO);
      const { digit, index } = order[i];
      const pixels = digits[digit].get(index);
      if (pixels?.length !== SIDE * SIDE) throw new ValueError(`${WHO}: digit ${digit} image ${index} of the mnist package has ${pixels?.length} values, expected ${SIDE * SIDE}`);
      const image = new Float32Array(size * size * channels);
      for (let y = 0; y < SIDE; y++) {
        for (let x = 0; x < SIDE; x++) {
          const v = pixels[y * SIDE + x];
          const at = ((y + pad) * size + x + pad) * channels;
          for (let c = 0; c < channels; c++) image[at + c] = v;
        }
      }
      return { image, shape: [size, size, channels], label: digit };
    },
  };
}
