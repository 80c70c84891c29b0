/**
 * The Tokenizer contract on small random models: token spaces, typed errors for bad input, no leaked
 * tensors, outputs in [0, 1], and composition with a generator through core's composePipeline.
 */
import * as tf from '@tensorflow/tfjs-core';
import { composePipeline, DTypeError, type Generator, type SampleOptions, SeededRandom, ShapeError, TokenSpaceMismatchError, ValueError } from '@vtok/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createMagvit2, magvit2TokenFactorization, type Magvit2Tokenizer } from '../src';

function smallConfig(video: boolean): Record<string, unknown> {
  return {
    model: {
      class_path: video ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel' : 'src.Open_MAGVIT2.models.lfqgan.VQModel',
      init_args: {
        ddconfig: { double_z: false, z_channels: 6, resolution: 16, in_channels: 3, out_ch: 3, ch: 32, ch_mult: [1, 2, 1], num_res_blocks: 1 },
        n_embed: 64,
        embed_dim: 6,
        sample_minimization_weight: 1.0,
        batch_maximization_weight: 1.0,
      },
    },
    data: { init_args: { validation: { params: { config: { size: 16, ...(video ? { sequence_length: 5 } : {}) } } } } },
  };
}

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

describe('bad input is a typed error that says what was expected', () => {
  it('images: wrong size, channels, rank, frames, dtype, NaN', async () => {
    const cases: [Magvit2Tokenizer, tf.Tensor, new (...a: never[]) => Error, RegExp][] = [
      [image, tf.zeros([1, 16, 8, 3]), ShapeError, /expected width 16 .* got 8/],
      [image, tf.zeros([1, 16, 16, 4]), ShapeError, /expected channels 3 .* got 4/],
      [image, tf.zeros([16, 16, 3]), ShapeError, /\[B, 16, 16, 3\].*rank 3/],
      [video, tf.zeros([1, 4, 16, 16, 3]), ShapeError, /expected frames 5 .* got 4/],
      [image, tf.zeros([1, 16, 16, 3], 'int32'), DTypeError, /float32, got int32/],
      [image, tf.fill([1, 16, 16, 3], Number.NaN), ValueError, /NaN or Infinity/],
    ];
    for (const [tok, x, type, message] of cases) {
      const before = tf.memory().numTensors;
      const error = await tok.encode(x).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
  });

  it('tokens: ids >= K or < 0, float ids, wrong token shape', async () => {
    const cases: [Magvit2Tokenizer, tf.Tensor, new (...a: never[]) => Error, RegExp][] = [
      [image, tf.fill([1, 4, 4], 64, 'int32'), ValueError, /token ids must be in \[0, 64\), got values from 64 to 64/],
      [image, tf.fill([1, 4, 4], -1, 'int32'), ValueError, /\[0, 64\)/],
      [image, tf.zeros([1, 4, 4]), DTypeError, /int32, got float32/],
      [image, tf.zeros([1, 16], 'int32'), ShapeError, /\[B, 4, 4\]/],
      [video, tf.zeros([1, 2, 4, 4], 'int32'), ShapeError, /expected latent frames 3 .* got 2/],
    ];
    for (const [tok, ids, type, message] of cases) {
      const error = await tok.decode(ids).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      ids.dispose();
    }
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
