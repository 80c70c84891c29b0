/**
 * The image transforms of the official recipes (1d-tokenizer, MaskGIT): `Resize(shorter side)` then
 * `RandomCrop` + `RandomHorizontalFlip` for training, `CenterCrop` for evaluation. Deterministic ones are
 * plain functions (use them with `mapDataset`); random ones are `Augment`s for `batches`, drawing from the
 * example's seeded stream. No transform changes its input: what it alters is a new example.
 */
import type { SeededRandom } from '@vtok/core';
import { ShapeError, ValueError, assertPositiveInt, formatShape } from '@vtok/core';
import type { Augment } from './batches';
import type { ImageExample } from './dataset';
import { resample, type ResampleFilter } from './resample';

export interface ResizeOptions {
  /** Default 'cubic' (the recipes' bicubic, antialiased when shrinking). */
  filter?: ResampleFilter;
}

/** A size: one number for a square, or [height, width]. */
export type ImageSize = number | readonly [height: number, width: number];

function sizeOf(size: ImageSize, who: string): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 2 ? size : [NaN, NaN];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ValueError(`${who}: size must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

function checkFilter(filter: unknown, who: string): asserts filter is ResampleFilter {
  if (filter !== 'cubic' && filter !== 'linear') throw new ValueError(`${who}: filter must be 'cubic' or 'linear', got ${JSON.stringify(filter)}`);
}

/** Python's round(): halves to even, as torchvision's CenterCrop rounds its offsets. */
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** The example resized to exactly `size` (aspect ratio not kept). */
export function resizeImage(example: ImageExample, size: ImageSize, options: ResizeOptions = {}): ImageExample {
  const [outH, outW] = sizeOf(size, 'resizeImage');
  const { filter = 'cubic' } = options;
  checkFilter(filter, 'resizeImage');
  const [h, w, c] = example.shape;
  return { ...example, image: resample(example.image, h, w, c, outH, outW, filter), shape: [outH, outW, c] };
}

/**
 * The example resized so that its shorter side is `size`, the longer one `floor(size · long / short)`, as
 * torchvision's `Resize(size)` computes it.
 */
export function resizeShorterSide(example: ImageExample, size: number, options: ResizeOptions = {}): ImageExample {
  assertPositiveInt(size, 'resizeShorterSide', 'size');
  const [h, w] = example.shape;
  const [outH, outW] = h <= w ? [size, Math.floor((size * w) / h)] : [Math.floor((size * h) / w), size];
  return resizeImage(example, [outH, outW], options);
}

/** The [h, w] window at (top, left). */
export function cropImage(example: ImageExample, top: number, left: number, height: number, width: number): ImageExample {
  const [h, w, c] = example.shape;
  if (![top, left, height, width].every(Number.isInteger) || top < 0 || left < 0 || height < 1 || width < 1 || top + height > h || left + width > w) {
    throw new ShapeError(`cropImage: the window ${height}×${width} at (${top}, ${left}) is not inside the image ${formatShape(example.shape)}`);
  }
  const image = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) image.set(example.image.subarray(((top + y) * w + left) * c, ((top + y) * w + left + width) * c), y * width * c);
  return { ...example, image, shape: [height, width, c] };
}

function cropSize(example: ImageExample, size: ImageSize, who: string): [number, number] {
  const [ch, cw] = sizeOf(size, who);
  const [h, w] = example.shape;
  if (ch > h || cw > w) throw new ShapeError(`${who}: cannot crop ${ch}×${cw} from an image of ${formatShape(example.shape)} (resize its shorter side first)`);
  return [ch, cw];
}

/** The centred `size` window (offsets rounded as torchvision's CenterCrop does). */
export function centerCrop(example: ImageExample, size: ImageSize): ImageExample {
  const [ch, cw] = cropSize(example, size, 'centerCrop');
  const [h, w] = example.shape;
  return cropImage(example, roundHalfEven((h - ch) / 2), roundHalfEven((w - cw) / 2), ch, cw);
}

/** A `size` window at a uniformly drawn offset. */
export function randomCrop(size: ImageSize): Augment<ImageExample> {
  sizeOf(size, 'randomCrop');
  return (example: ImageExample, random: SeededRandom) => {
    const [ch, cw] = cropSize(example, size, 'randomCrop');
    const [h, w] = example.shape;
    const top = random.nextInt(h - ch + 1);
    const left = random.nextInt(w - cw + 1);
    return cropImage(example, top, left, ch, cw);
  };
}

/** The example mirrored left to right. */
export function flipHorizontal(example: ImageExample): ImageExample {
  const [h, w, c] = example.shape;
  const image = new Float32Array(example.image.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = (y * w + x) * c;
      const to = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) image[to + k] = example.image[from + k];
    }
  }
  return { ...example, image };
}

/** Mirrors an example with probability `p` (default 0.5); one draw per example. */
export function randomHorizontalFlip(options: { p?: number } = {}): Augment<ImageExample> {
  const { p = 0.5 } = options;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`randomHorizontalFlip: p must be a probability in [0, 1], got ${String(p)}`);
  return (example: ImageExample, random: SeededRandom) => (random.next() < p ? flipHorizontal(example) : example);
}

/** Augments applied in order, sharing the example's random stream. */
export function composeAugments<T>(...augments: Augment<T>[]): Augment<T> {
  augments.forEach((a, i) => {
    if (typeof a !== 'function') throw new ValueError(`composeAugments: argument ${i} must be an augment function, got ${typeof a}`);
  });
  return async (example: T, random: SeededRandom) => {
    let out = example;
    for (const a of augments) out = await a(out, random);
    return out;
  };
}
