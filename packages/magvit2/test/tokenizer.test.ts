/**
 * The Tokenizer contract on small random models: token spaces, typed errors for bad input, no leaked
 * tensors, outputs in [0, 1], and composition with a generator through core's composePipeline.
 */
import * as tf from '@tensorflow/tfjs-core';
import { composePipeline, DTypeError, type Generator, type SampleOptions, SeededRandom, ShapeError, TokenSpaceMismatchError, ValueError } from '@vtok/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createMagvit2, magvit2TokenFactorization, type Magvit2Tokenizer } from '../src';
import { smallConfig } from './helpers/small-config';

const image = createMagvit2(smallConfig(false), { seed: 1 });
const video = createMagvit2(smallConfig(true), { seed: 2 });
afterAll(() => {
  image.dispose();
  video.dispose();
});

const rng = new SeededRandom(11);
const uniform = (shape: number[]) => rng.uniform(shape, 0, 1);

describe('token spaces', () => {
  it('image: [h, w]; video: [t, h, w] with 1 + (T − 1)/4 latent frames', () => {
    expect(image.inputShape).toEqual([16, 16, 3]);
    expect(image.tokens).toEqual({ vocabSize: 64, shape: [4, 4] });
    // ch_mult [1, 2, 1]: level 0 (mult 1) halves space only, level 1 (mult 2) time and space.
    expect(video.inputShape).toEqual([5, 16, 16, 3]);
    expect(video.tokens).toEqual({ vocabSize: 64, shape: [3, 4, 4] });
  });

  for (const [name, tok] of [['image', image], ['video', video]] as const) {
    it(`${name}: encode -> int32 ids in range, decode -> [B, ...inputShape] in [0,1], no tensors left behind`, async () => {
      const x = uniform([2, ...tok.inputShape]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const ids = await tok.encode(x);
        expect(ids.dtype).toBe('int32');
        expect(ids.shape).toEqual([2, ...tok.tokens.shape]);
        const values = await ids.data();
        expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...values)).toBeLessThan(tok.tokens.vocabSize);
        const out = await tok.decode(ids);
        expect(out.shape).toEqual([2, ...tok.inputShape]);
        const pixels = await out.data();
        expect(Math.min(...pixels)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
        tf.dispose([ids, out]);
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('batch elements are independent (no mixing across the batch)', async () => {
    const x = uniform([3, ...image.inputShape]);
    const all = await image.encode(x);
    const one = await image.encode(tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]));
    expect(Array.from(await tf.slice(all, [1, 0, 0], [1, -1, -1]).data())).toEqual(Array.from(await one.data()));
    tf.dispose([x, all, one]);
  });
});

describe('any size, as the official code (fully convolutional)', () => {
  // ch_mult [1, 2, 1]: f = 4; the video model halves time once (clips of 1 + 2k frames).
  it('tokens and inputShape keep the configured size; tokenShapeFor / outputShapeFor follow any size', () => {
    expect(image.factor).toBe(4);
    expect(image.tokenShapeFor([24, 24, 3])).toEqual([6, 6]);
    expect(image.tokenShapeFor([8, 20, 3])).toEqual([2, 5]);
    expect(image.outputShapeFor([2, 5])).toEqual([8, 20, 3]);
    expect(video.tokenShapeFor([3, 8, 12, 3])).toEqual([2, 2, 3]);
    expect(video.tokenShapeFor([1, 8, 12, 3])).toEqual([1, 2, 3]);
    expect(video.outputShapeFor([2, 2, 3])).toEqual([3, 8, 12, 3]);
    expect(() => image.outputShapeFor([2, 5, 1])).toThrow(ShapeError);
    expect(image.tokens.shape).toEqual([4, 4]);
    expect(video.tokens.shape).toEqual([3, 4, 4]);
  });

  const sizes: [string, Magvit2Tokenizer, number[], number[]][] = [
    ['image, a larger square than configured (24² vs 16²)', image, [2, 24, 24, 3], [2, 6, 6]],
    ['image, non-square (8×20)', image, [1, 8, 20, 3], [1, 2, 5]],
    ['video, a non-square clip of 3 frames of 8×12 (configured: 5 of 16²)', video, [1, 3, 8, 12, 3], [1, 2, 2, 3]],
    ['video, one frame (an image as a one-frame clip)', video, [1, 1, 8, 8, 3], [1, 1, 2, 2]],
  ];
  for (const [name, tok, input, grid] of sizes) {
    it(`${name}: encode -> ${JSON.stringify(grid)}, decode -> the input size in [0,1], no tensors left behind`, async () => {
      const x = uniform(input);
      const before = tf.memory().numTensors;
      const ids = await tok.encode(x);
      expect(ids.dtype).toBe('int32');
      expect(ids.shape).toEqual(grid);
      const values = await ids.data();
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThan(tok.tokens.vocabSize);
      const out = await tok.decode(ids);
      expect(out.shape).toEqual(input);
      const pixels = await out.data();
      expect(Math.min(...pixels)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
      tf.dispose([ids, out]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('the configured size does not change the result: same weights configured for 16² and for 24² give the same ids and image for a 24² input', async () => {
    const at24 = createMagvit2(smallConfig(false), { seed: 1, imageSize: 24 });
    try {
      expect(at24.inputShape).toEqual([24, 24, 3]);
      const x = uniform([1, 24, 24, 3]);
      const [a, b] = [await image.encode(x), await at24.encode(x)];
      expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
      const [ya, yb] = [await image.decode(a), await at24.decode(a)];
      expect(Array.from(await ya.data())).toEqual(Array.from(await yb.data()));
      tf.dispose([x, a, b, ya, yb]);
    } finally {
      at24.dispose();
    }
  });

  it('decodes token grids other than the configured one: [B, h, w] -> [B, 4h, 4w, 3], [B, t, h, w] -> [B, 2t − 1, 4h, 4w, 3]', async () => {
    const cases: [Magvit2Tokenizer, number[], number[]][] = [
      [image, [2, 3, 5], [2, 12, 20, 3]],
      [image, [1, 1, 2], [1, 4, 8, 3]],
      [image, [1, 6, 6], [1, 24, 24, 3]],
      [video, [1, 2, 2, 3], [1, 3, 8, 12, 3]],
      [video, [1, 1, 1, 2], [1, 1, 4, 8, 3]],
    ];
    const before = tf.memory().numTensors;
    for (const [tok, grid, expected] of cases) {
      const n = grid.reduce((a, b) => a * b, 1);
      const ids = tf.tensor(Int32Array.from({ length: n }, (_, i) => (i * 37 + 5) % tok.tokens.vocabSize), grid, 'int32');
      const out = await tok.decode(ids);
      expect(out.shape).toEqual(expected);
      expect(tok.outputShapeFor(grid.slice(1))).toEqual(expected.slice(1));
      const pixels = await out.data();
      expect(pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
      tf.dispose([ids, out]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('bad input is a typed error that says what was expected', () => {
  it('images and clips: size not a multiple of f (with the nearest valid sizes), channels, rank, frames, batch, dtype, NaN', async () => {
    const cases: [Magvit2Tokenizer, tf.Tensor, new (...a: never[]) => Error, RegExp][] = [
      [image, tf.zeros([1, 18, 16, 3]), ShapeError, /multiples of the down-sampling factor 4, got height 18 \(nearest valid: 16 or 20\) in images \[B, H, W, 3\] = \[1, 18, 16, 3\]/],
      [image, tf.zeros([1, 16, 10, 3]), ShapeError, /factor 4, got width 10 \(nearest valid: 8 or 12\)/],
      [image, tf.zeros([1, 2, 7, 3]), ShapeError, /got height 2 \(nearest valid: 4\) and width 7 \(nearest valid: 4 or 8\)/],
      [video, tf.zeros([1, 5, 16, 6, 3]), ShapeError, /factor 4, got width 6 \(nearest valid: 4 or 8\) in clips \[B, T, H, W, 3\]/],
      [image, tf.zeros([1, 16, 16, 4]), ShapeError, /expected 3 channels \(RGB\) in images \[B, H, W, 3\], got 4/],
      [video, tf.zeros([1, 5, 16, 16, 1]), ShapeError, /expected 3 channels \(RGB\) in clips \[B, T, H, W, 3\], got 1/],
      [image, tf.zeros([16, 16, 3]), ShapeError, /expected images \[B, H, W, 3\] \(rank 4\), got rank 3 with shape \[16, 16, 3\]/],
      [image, tf.zeros([1, 5, 16, 16, 3]), ShapeError, /rank 4.*got rank 5.*image model/],
      [video, tf.zeros([1, 16, 16, 3]), ShapeError, /expected clips \[B, T, H, W, 3\] \(rank 5\), got rank 4 .*one-frame clip \[B, 1, H, W, 3\]/],
      [video, tf.zeros([1, 4, 16, 16, 3]), ShapeError, /expected 1 \+ k·2 frames in clips \[B, T, H, W, 3\], got 4 .*nearest valid: 3 or 5.*halves time once/],
      [video, tf.zeros([1, 0, 16, 16, 3]), ShapeError, /got 0 .*nearest valid: 1\b/],
      [image, tf.zeros([0, 16, 16, 3]), ShapeError, /batch is empty/],
      [image, tf.zeros([1, 16, 16, 3], 'int32'), DTypeError, /float32, got int32/],
      [image, tf.fill([1, 16, 16, 3], Number.NaN), ValueError, /must be finite, got 768 NaN or infinite values/],
    ];
    for (const [tok, x, type, message] of cases) {
      const before = tf.memory().numTensors;
      const error = await tok.encode(x).catch((e: unknown) => e);
      expect(error, `${x.shape}`).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
  });

  it('tokens: ids >= K or < 0, float ids, wrong rank, empty axes, a single latent position', async () => {
    const causalVideo = createMagvit2(smallConfig(true), { seed: 2, normalization: 'causal' });
    const cases: [Magvit2Tokenizer, tf.Tensor, new (...a: never[]) => Error, RegExp][] = [
      [image, tf.fill([1, 4, 4], 64, 'int32'), ValueError, /token ids must be in \[0, 63\] \(vocabulary size 64\), got values from 64 to 64/],
      [image, tf.fill([1, 3, 7], -1, 'int32'), ValueError, /\[0, 63\] \(vocabulary size 64\), got values from -1 to -1 in shape \[1, 3, 7\]/],
      [video, tf.fill([1, 2, 3, 3], 99, 'int32'), ValueError, /\[0, 63\] \(vocabulary size 64\)/],
      [image, tf.zeros([1, 4, 4]), DTypeError, /int32, got float32/],
      [image, tf.zeros([1, 16], 'int32'), ShapeError, /expected tokens \[B, h, w\] \(rank 3\), got rank 2 with shape \[1, 16\]/],
      [video, tf.zeros([1, 4, 4], 'int32'), ShapeError, /expected tokens \[B, t, h, w\] \(rank 4\), got rank 3/],
      [image, tf.zeros([1, 0, 4], 'int32'), ShapeError, /every axis of tokens \[B, h, w\] must be at least 1, got shape \[1, 0, 4\]/],
      [image, tf.zeros([2, 1, 1], 'int32'), ValueError, /has 1 latent position; .*needs at least 2/],
      [video, tf.zeros([1, 1, 1, 1], 'int32'), ValueError, /has 1 latent position; /],
      [causalVideo, tf.zeros([1, 3, 1, 1], 'int32'), ValueError, /has 1 latent position per frame/],
    ];
    try {
      for (const [tok, ids, type, message] of cases) {
        const before = tf.memory().numTensors;
        const error = await tok.decode(ids).catch((e: unknown) => e);
        expect(error, `${ids.shape}`).toBeInstanceOf(type);
        expect((error as Error).message).toMatch(message);
        expect(tf.memory().numTensors).toBe(before);
        ids.dispose();
      }
    } finally {
      causalVideo.dispose();
    }
  });

  it('tokenShapeFor says the same as encode', () => {
    expect(() => image.tokenShapeFor([18, 16, 3])).toThrow(/height 18 \(nearest valid: 16 or 20\)/);
    expect(() => video.tokenShapeFor([6, 16, 16, 3])).toThrow(/got 6 .*nearest valid: 5 or 7/);
  });
});

/** A test generator over a given token space: draws ids uniformly with a seed (no model). */
class UniformGenerator implements Generator {
  readonly specificationVersion = 'v1' as const;
  readonly numClasses = 10;
  constructor(readonly tokens: { vocabSize: number; shape: readonly number[] }) {}
  async sample(options: SampleOptions): Promise<tf.Tensor> {
    const r = new SeededRandom(options.seed ?? 0);
    const n = options.classes.length * this.tokens.shape.reduce((a, b) => a * b, 1);
    const ids = Int32Array.from({ length: n }, () => r.nextUint32() % this.tokens.vocabSize);
    return tf.tensor(ids, [options.classes.length, ...this.tokens.shape], 'int32');
  }
  dispose(): void {}
}

describe('composePipeline', () => {
  it('pairs with a generator over the MAGVIT-v2 grid and decodes its samples to images', async () => {
    const pipe = composePipeline({ tokenizer: image, generator: new UniformGenerator(image.tokens) });
    const samples = await pipe.generate({ classes: [1, 2], seed: 3 });
    expect(samples.shape).toEqual([2, 16, 16, 3]);
    samples.dispose();
  });

  it('refuses a generator over another vocabulary or grid, saying both', () => {
    expect(() => composePipeline({ tokenizer: image, generator: new UniformGenerator({ vocabSize: 512, shape: [4, 4] }) })).toThrow(TokenSpaceMismatchError);
    expect(() => composePipeline({ tokenizer: video, generator: new UniformGenerator(image.tokens) })).toThrow(/\[3, 4, 4\].*\[4, 4\]|\[4, 4\].*\[3, 4, 4\]/);
  });

  it('token factorisation for generators over 2^18-style vocabularies: split and merge back', async () => {
    const fac = magvit2TokenFactorization(image.model.config, [2, 4]);
    expect(fac.vocabSizes).toEqual([4, 16]);
    const ids = tf.tensor([[0, 1, 5, 63]], [1, 4], 'int32');
    const [lo, hi] = fac.split(ids);
    expect(Array.from(await lo.data())).toEqual([0, 1, 1, 3]);
    expect(Array.from(await hi.data())).toEqual([0, 0, 1, 15]);
    const back = fac.merge([lo, hi]);
    expect(Array.from(await back.data())).toEqual([0, 1, 5, 63]);
    tf.dispose([ids, lo, hi, back]);
  });
});
