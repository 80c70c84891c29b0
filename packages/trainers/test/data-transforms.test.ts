// Image transforms against hand-computed values: antialiased resampling, torchvision's shorter-side and
// centre-crop rounding, seeded random crops and flips.
import { SeededRandom, ShapeError, ValueError } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { centerCrop, composeAugments, flipHorizontal, type ImageExample, mapDataset, randomCrop, randomHorizontalFlip, resizeImage, resizeShorterSide } from '../src';
import { indexedImages } from './data-helpers';

/** An h×w×c image whose value at (y, x, k) is f(y, x, k). */
const imageOf = (h: number, w: number, c: number, f: (y: number, x: number, k: number) => number): ImageExample => ({
  image: Float32Array.from({ length: h * w * c }, (_, i) => f(Math.floor(i / (w * c)), Math.floor(i / c) % w, i % c)),
  shape: [h, w, c],
});

const close = (got: ArrayLike<number>, want: number[]) => {
  expect(got.length).toBe(want.length);
  want.forEach((v, i) => expect(got[i], `value ${i}`).toBeCloseTo(v, 6));
};

describe('resizeImage', () => {
  it('linear, shrinking: the triangle filter stretched by the scale, taps past the border left out', () => {
    const [a, b, c, d] = [0.1, 0.4, 0.2, 0.9];
    const out = resizeImage({ image: Float32Array.from([a, b, c, d]), shape: [1, 4, 1] }, [1, 2], { filter: 'linear' });
    expect(out.shape).toEqual([1, 2, 1]);
    close(out.image, [(0.75 * a + 0.75 * b + 0.25 * c) / 1.75, (0.25 * b + 0.75 * c + 0.75 * d) / 1.75]);
  });

  it('linear, enlarging: half-pixel centres with the edge held, on both axes', () => {
    const out = resizeImage({ image: Float32Array.from([0, 1]), shape: [1, 2, 1] }, [1, 4], { filter: 'linear' });
    close(out.image, [0, 0.25, 0.75, 1]);
    const tall = resizeImage({ image: Float32Array.from([0, 1]), shape: [2, 1, 1] }, [4, 1], { filter: 'linear' });
    close(tall.image, [0, 0.25, 0.75, 1]);
  });

  it('cubic (Keys, a = -0.5): hand values, overshoot clamped to [0, 1]', () => {
    const out = resizeImage({ image: Float32Array.from([0, 1]), shape: [1, 2, 1] }, [1, 4]);
    // Output 1: centre 0.75, taps at distances 0.25 and 0.75: k(0.25) = 0.8671875, k(0.75) = 0.2265625.
    // Output 0: centre 0.25: k(1.25) = -0.0703125 on the 1, clamped from -0.088 to 0.
    close(out.image, [0, 0.2265625 / (0.8671875 + 0.2265625), 1 - 0.2265625 / (0.8671875 + 0.2265625), 1]);
  });

  it('keeps a constant image constant in every channel, and the same size is a copy', () => {
    const flat = imageOf(6, 10, 3, (_, __, k) => [0.2, 0.5, 0.7][k]);
    const small = resizeImage(flat, [3, 4]);
    expect(small.shape).toEqual([3, 4, 3]);
    for (let i = 0; i < small.image.length; i++) expect(small.image[i]).toBeCloseTo([0.2, 0.5, 0.7][i % 3], 6);
    const same = resizeImage(flat, [6, 10]);
    expect(Array.from(same.image)).toEqual(Array.from(flat.image));
    expect(same.image).not.toBe(flat.image);
  });
});

describe('resizeShorterSide and centerCrop', () => {
  it("sizes as torchvision's Resize(size): the longer side is floor(size · long / short)", () => {
    const wide = imageOf(3, 5, 1, () => 0.5);
    expect(resizeShorterSide(wide, 2).shape).toEqual([2, 3, 1]);
    const tall = imageOf(7, 3, 1, () => 0.5);
    expect(resizeShorterSide(tall, 4).shape).toEqual([9, 4, 1]);
    expect(resizeShorterSide(imageOf(4, 4, 1, () => 0.5), 2).shape).toEqual([2, 2, 1]);
  });

  it("crops the centre with torchvision's offsets (round half to even)", () => {
    // Value = column / 100 + row: offsets are read off the crop's first pixel.
    const offsetsOf = (h: number, w: number, ch: number, cw: number) => {
      const out = centerCrop(imageOf(h, w, 1, (y, x) => y + x / 100), [ch, cw]);
      expect(out.shape).toEqual([ch, cw, 1]);
      return [Math.floor(out.image[0]), Math.round((out.image[0] % 1) * 100)];
    };
    expect(offsetsOf(4, 7, 4, 4)).toEqual([0, 2]); // (7 - 4) / 2 = 1.5 -> 2
    expect(offsetsOf(9, 4, 4, 4)).toEqual([2, 0]); // 2.5 -> 2
    expect(offsetsOf(8, 8, 4, 4)).toEqual([2, 2]);
    expect(offsetsOf(11, 6, 4, 4)).toEqual([4, 1]); // 3.5 -> 4, 1
  });

  it('the recipe (shorter side, then centre crop) through mapDataset', async () => {
    const data = mapDataset(indexedImages(3), (e) => centerCrop(resizeShorterSide(e, 4), 4));
    const e = await data.get(2);
    expect(e.shape).toEqual([4, 4, 1]);
    expect(e.label).toBe(2);
    expect(data.length).toBe(3);
  });
});

describe('random augments', () => {
  it('randomCrop: a window inside the image, the same for the same stream, every offset reachable', () => {
    const image = imageOf(5, 6, 2, (y, x, k) => (y * 6 + x) / 30 + k / 100);
    const crop = randomCrop([3, 2]);
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) {
      const out = crop(image, new SeededRandom(s)) as ImageExample;
      const again = crop(image, new SeededRandom(s)) as ImageExample;
      expect(Array.from(again.image)).toEqual(Array.from(out.image));
      expect(out.shape).toEqual([3, 2, 2]);
      const first = Math.round(out.image[0] * 30);
      const [top, left] = [Math.floor(first / 6), first % 6];
      // The crop is the window at (top, left).
      expect(Array.from(out.image)).toEqual(Array.from(cropAt(image, top, left, 3, 2)));
      seen.add(`${top},${left}`);
    }
    expect(seen.size).toBe(3 * 5);
  });

  it('flips mirror each row exactly; randomHorizontalFlip flips with probability p and never changes its input', () => {
    const image = imageOf(2, 3, 2, (y, x, k) => y * 0.5 + x * 0.1 + k * 0.01);
    const before = Array.from(image.image);
    const flipped = flipHorizontal(image);
    expect(Array.from(flipped.image)).toEqual(Array.from(imageOf(2, 3, 2, (y, x, k) => y * 0.5 + (2 - x) * 0.1 + k * 0.01).image));
    expect(randomHorizontalFlip({ p: 1 })(image, new SeededRandom(1))).toEqual(flipped);
    expect(randomHorizontalFlip({ p: 0 })(image, new SeededRandom(1))).toEqual(image);
    expect(Array.from(image.image)).toEqual(before);
  });

  it('composeAugments runs them in order on one stream', async () => {
    const image = imageOf(4, 4, 1, (y, x) => (y * 4 + x) / 16);
    const both = composeAugments(randomCrop(2), randomHorizontalFlip());
    const a = await both(image, new SeededRandom(5));
    const r = new SeededRandom(5);
    const b = (randomHorizontalFlip()((randomCrop(2)(image, r) as ImageExample), r)) as ImageExample;
    expect(a).toEqual(b);
  });
});

describe('typed errors', () => {
  const image = imageOf(4, 5, 1, () => 0.5);
  it('say what was expected and what came', () => {
    expect(() => centerCrop(image, 6)).toThrow(ShapeError);
    expect(() => centerCrop(image, 6)).toThrow('cannot crop 6×6 from an image of [4, 5, 1] (resize its shorter side first)');
    expect(() => randomCrop(5)(image, new SeededRandom(1))).toThrow(/randomCrop: cannot crop 5×5/);
    expect(() => resizeImage(image, [0, 3])).toThrow(ValueError);
    expect(() => resizeImage(image, [2, 3], { filter: 'nearest' as 'cubic' })).toThrow("filter must be 'cubic' or 'linear', got \"nearest\"");
    expect(() => resizeShorterSide(image, 1.5)).toThrow(/size must be a positive integer, got 1.5/);
    expect(() => randomHorizontalFlip({ p: 2 })).toThrow(/p must be a probability in \[0, 1\], got 2/);
    expect(() => randomCrop([2] as unknown as number)).toThrow(ValueError);
  });
});

/** The reference crop, by plain indexing. */
function cropAt(e: ImageExample, top: number, left: number, h: number, w: number): Float32Array {
  const [, W, C] = e.shape;
  const out: number[] = [];
  for (let y = top; y < top + h; y++) for (let x = left; x < left + w; x++) for (let k = 0; k < C; k++) out.push(e.image[(y * W + x) * C + k]);
  return Float32Array.from(out);
}
