/** The Tokenizer contract's input checks: typed errors that say what was expected and what came. */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, ValueError, composePipeline } from '@vtok/core';
import { expectError, goldenCase } from '@vtok/test-utils';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createTiTok, type TiTok } from '../src';
import { TINY_VAE_CONFIG, officialConfigOf } from './helpers';

const tiny = goldenCase('titok_tiny');
const size = tiny.config.image_size as number;
const L = tiny.config.num_latent_tokens as number;
const K = tiny.config.codebook_size as number;
const model: TiTok = createTiTok(officialConfigOf(tiny), { seed: 7 });
afterAll(() => model.dispose());

describe('TiTok input checks', () => {
  it('images: rank, channels, size, dtype', async () => {
    const cases: [tf.Tensor, new (...a: any[]) => Error, RegExp][] = [
      [tf.zeros([size, size, 3]), ShapeError, /rank 4 \[B, 32, 32, 3\], got rank 3/],
      [tf.zeros([1, size, size, 4]), ShapeError, /expected 3 channels .* got 4/],
      [tf.zeros([1, 3, size, size]), ShapeError, /expected 3 channels/],
      [tf.zeros([2, size + 1, size, 3]), ShapeError, /expected 32×32 images .* got 33×32/],
      [tf.zeros([1, size, size, 3], 'int32'), DTypeError, /float32 in \[0, 1\], got int32/],
    ];
    for (const [x, type, pattern] of cases) {
      await expectError(() => model.encode(x), type, pattern);
      x.dispose();
    }
    await expect(model.encode([1, 2] as unknown as tf.Tensor)).rejects.toThrow(/must be a tf.Tensor/);
  });

  it('images: NaN, Inf and values outside [0, 1]', async () => {
    const make = (v: number) => tf.tidy(() => tf.concat([tf.fill([1, size, size, 3], 0.5), tf.fill([1, size, size, 3], v)]));
    for (const [v, pattern] of [
      [NaN, /1 NaN or infinite|3072 NaN or infinite/],
      [Infinity, /NaN or infinite/],
      [1.5, /must be in \[0, 1\], got values in \[0\.5, 1\.5\]/],
      [-0.25, /got values in \[-0\.25, 0\.5\]/],
      [255, /divide uint8 pixels by 255/],
    ] as const) {
      const x = make(v);
      await expectError(() => model.encode(x), ValueError, pattern);
      await expectError(() => model.encodeLatents(x), ValueError, pattern);
      x.dispose();
    }
  });

  it('tokens: dtype, shape, ids >= K or negative', async () => {
    const cases: [tf.Tensor, new (...a: any[]) => Error, RegExp][] = [
      [tf.zeros([1, L]), DTypeError, /int32 ids, got float32/],
      [tf.zeros([1, L + 1], 'int32'), ShapeError, new RegExp(`expected tokens \\[B, ${L}\\] .* got \\[1, ${L + 1}\\]`)],
      [tf.zeros([L], 'int32'), ShapeError, /expected tokens/],
      [tf.fill([2, L], K, 'int32'), ValueError, new RegExp(`in \\[0, ${K - 1}\\] \\(vocabulary size ${K}\\), got values from ${K} to ${K}`)],
      [tf.tensor2d([[-1, ...Array(L - 1).fill(0)]], [1, L], 'int32'), ValueError, /got values from -1 to 0/],
    ];
    for (const [t, type, pattern] of cases) {
      await expectError(() => model.decode(t), type, pattern);
      t.dispose();
    }
  });

  it('latents: shape, dtype, finiteness', async () => {
    const c = model.tokenSize;
    const cases: [tf.Tensor, new (...a: any[]) => Error, RegExp][] = [
      [tf.zeros([1, L, c + 1]), ShapeError, new RegExp(`expected latents \\[B, ${L}, ${c}\\]`)],
      [tf.zeros([1, L, c], 'int32'), DTypeError, /float32/],
      [tf.fill([1, L, c], NaN), ValueError, /NaN or infinite/],
    ];
    for (const [t, type, pattern] of cases) {
      await expectError(() => model.decodeLatents(t), type, pattern);
      t.dispose();
    }
  });

  it('accepts any batch size, [B, 1, L] tokens as the official encode returns them, and an empty batch', async () => {
    const images = tf.randomUniform([5, size, size, 3], 0, 1, 'float32', 1);
    const small = createTiTok(officialConfigOf(tiny), { seed: 7, maxBatch: 2, maxPixelBatch: 2 });
    const whole = await model.encode(images);
    const chunked = await small.encode(images);
    expect(whole.shape).toEqual([5, L]);
    expect(Array.from(await chunked.data())).toEqual(Array.from(await whole.data()));
    const a = await model.decode(tf.reshape(whole, [5, 1, L]));
    const b = await small.decode(whole);
    expect(a.shape).toEqual([5, ...model.outputShape]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
    expect((await diff.data())[0]).toBeLessThan(1e-5);
    const pixels = await a.data();
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    const none = await model.encode(tf.zeros([0, size, size, 3]));
    expect(none.shape).toEqual([0, L]);
    const noImages = await model.decode(none);
    expect(noImages.shape).toEqual([0, ...model.outputShape]);
    tf.dispose([images, whole, chunked, a, b, diff, none, noImages]);
    small.dispose();
  });

  it('batches by default as many images as the image size allows: 8 at 256², scaled with the pixel count', async () => {
    // The model's chunk calls, counted (one per maxBatch images), each answered with zeros of its size
    // rather than run: thousands of images through even the tiny ViT take half a minute on cpu.
    const chunks = async (m: TiTok, n: number) => {
      const chunked = m as unknown as { encodeChunk(images: tf.Tensor): tf.Tensor };
      const spy = vi.spyOn(chunked, 'encodeChunk').mockImplementation((chunk) => tf.zeros([chunk.shape[0], L, m.tokenSize]));
      const images = tf.zeros([n, size, size, 3]);
      const tokens = await m.encodeRaw(images);
      const calls = spy.mock.calls.length;
      spy.mockRestore();
      tf.dispose([images, tokens]);
      return calls;
    };
    const perImageSize = 8 * Math.floor(2 ** 16 / size ** 2);
    expect(await chunks(model, perImageSize)).toBe(1);
    expect(await chunks(model, perImageSize + 1)).toBe(2);
    const explicit = createTiTok(officialConfigOf(tiny), { seed: 7, maxBatch: 2 });
    expect(await chunks(explicit, 5)).toBe(3);
    explicit.dispose();
  });

  it('VAE models refuse token calls and give mean, seeded samples and a clamped posterior', async () => {
    const vae = createTiTok(TINY_VAE_CONFIG, { seed: 2 });
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3);
    await expect(vae.encode(x)).rejects.toThrow(ConfigError);
    await expect(vae.decode(tf.zeros([2, 4], 'int32'))).rejects.toThrow(/VAE model/);
    const { mean, logvar } = await vae.encodePosterior(x);
    expect(mean.shape).toEqual([2, 4, 4]);
    const mode = await vae.encodeLatents(x);
    expect(Array.from(await mode.data())).toEqual(Array.from(await mean.data()));
    const s1 = await vae.encodeLatents(x, { sample: true, seed: 5 });
    const s2 = await vae.encodeLatents(x, { sample: true, seed: 5 });
    const s3 = await vae.encodeLatents(x, { sample: true, seed: 6 });
    expect(Array.from(await s1.data())).toEqual(Array.from(await s2.data()));
    expect(Array.from(await s1.data())).not.toEqual(Array.from(await s3.data()));
    const lv = await logvar.data();
    expect(Math.min(...lv)).toBeGreaterThanOrEqual(-30);
    expect(Math.max(...lv)).toBeLessThanOrEqual(20);
    const out = await vae.decodeLatents(s1);
    expect(out.shape).toEqual([2, 16, 16, 3]);
    tf.dispose([x, mean, logvar, mode, s1, s2, s3, out]);
    vae.dispose();
  });

  it('a stage-1 legacy model (finetune_decoder false) decodes to logits only', async () => {
    const cfg = officialConfigOf(tiny) as any;
    cfg.model.vq_model.finetune_decoder = false;
    delete cfg.model.vq_model.pixel_decoder;
    const stage1 = createTiTok(cfg, { seed: 4 });
    const ids = tf.zeros([1, L], 'int32');
    await expect(stage1.decode(ids)).rejects.toThrow(/no pixel decoder .* use decodeLogits/);
    const logits = await stage1.decodeLogits(await stage1.lookup(ids));
    expect(logits.shape).toEqual([1, 4, 4, 1024]);
    tf.dispose([ids, logits]);
    stage1.dispose();
  });

  it('is a Tokenizer that composes into a pipeline', () => {
    expect(model.specificationVersion).toBe('v1');
    expect(model.inputShape).toEqual([size, size, 3]);
    const generator = { specificationVersion: 'v1' as const, tokens: { vocabSize: K, shape: [L] }, numClasses: 10, sample: async () => tf.zeros([1, L], 'int32'), dispose() {} };
    expect(() => composePipeline({ tokenizer: model, generator })).not.toThrow();
  });
});
