// The zoo's models load by name and do what their cards say: held-out PSNR of the tokenizer on MNIST test
// digits, token space and bytes per image, recommended sampling in the generator's config, one generated
// image per class through composePipeline; unknown names are typed errors; nothing leaks. On wasm (the
// pure-JS cpu test backend is too slow for 200 digits through the VQGAN).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { composePipeline, UnknownPluginError } from '@vtok/core';
import { expectError, expectNoLeak, expectOnlyResult } from '@vtok/test-utils';
import { mnistDigits, psnr } from '@vtok/trainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRETRAINED_NAMES, isPretrainedName, listPretrained, loadPretrained, pretrainedCard, pretrainedSource, type PretrainedModels } from '../src';

/** Each zoo tokenizer with the zoo generator over its tokens. */
const PAIRS = [
  { tokenizer: 'digits-vqgan', generator: 'digits-maskgit', tokens: [64] },
  { tokenizer: 'digits-titok', generator: 'digits-titok-maskgit', tokens: [32] },
] as const;
type ZooTokenizer = PretrainedModels['digits-vqgan'] | PretrainedModels['digits-titok'];
const tokenizers = new Map<string, ZooTokenizer>();
const generators = new Map<string, PretrainedModels['digits-maskgit']>();

beforeAll(async () => {
  await wasm().activate();
  for (const pair of PAIRS) {
    tokenizers.set(pair.tokenizer, (await loadPretrained(pair.tokenizer)) as ZooTokenizer);
    generators.set(pair.generator, await loadPretrained(pair.generator));
  }
});

afterAll(() => {
  for (const m of [...tokenizers.values(), ...generators.values()]) m.dispose();
});

/** The first n MNIST test digits (those the card's PSNR was measured on begin with them) as [n, 32, 32, 3]. */
async function testDigits(n: number): Promise<tf.Tensor4D> {
  const digits = await mnistDigits({ split: 'test', size: 32, channels: 3, limit: n });
  const flat = new Float32Array(n * 32 * 32 * 3);
  for (let i = 0; i < n; i++) flat.set((await digits.get(i)).image, i * 32 * 32 * 3);
  return tf.tensor4d(flat, [n, 32, 32, 3]);
}

describe('catalogue', () => {
  it('lists both models with their files in the package', () => {
    expect(listPretrained().map((c) => c.name)).toEqual(['digits-vqgan', 'digits-titok', 'digits-maskgit', 'digits-titok-maskgit']);
    expect(PRETRAINED_NAMES.every(isPretrainedName)).toBe(true);
    expect(isPretrainedName('digits-vae')).toBe(false);
    for (const { name } of listPretrained()) {
      const folder = pretrainedSource(name);
      expect(typeof folder, 'a folder path in Node').toBe('string');
      for (const file of ['config.json', 'model.safetensors', 'card.json', 'README.md']) expect(existsSync(join(folder as string, file)), `${name}/${file}`).toBe(true);
    }
    for (const pair of PAIRS) expect(pretrainedCard(pair.generator).tokenizer).toBe(pair.tokenizer);
    expect(pretrainedCard('digits-titok').teacher).toBe('digits-vqgan');
    expect(Object.isFrozen(pretrainedCard('digits-vqgan').metrics)).toBe(true);
  });

  it('refuses an unknown name with a typed error listing the known ones', async () => {
    expect(() => pretrainedCard('digits-vae')).toThrow(UnknownPluginError);
    expect(() => pretrainedSource('')).toThrow(/"digits-vqgan", "digits-titok", "digits-maskgit", "digits-titok-maskgit"/);
    const error = await expectError(() => loadPretrained('digits-vae'), UnknownPluginError, /unknown pretrained model "digits-vae".*"digits-vqgan", "digits-titok"/);
    expect(error.known).toEqual([...PRETRAINED_NAMES]);
  });
});

for (const pair of PAIRS) {
  describe(pair.tokenizer, () => {
    it('has the token space, input shape and bytes per image of its card', () => {
      const card = pretrainedCard(pair.tokenizer);
      const tokenizer = tokenizers.get(pair.tokenizer)!;
      expect(tokenizer.tokens).toMatchObject(card.tokens);
      expect(tokenizer.tokens.shape).toEqual(pair.tokens);
      expect(tokenizer.inputShape).toEqual(card.inputShape);
      const bitsPerToken = Math.ceil(Math.log2(tokenizer.tokens.vocabSize));
      expect(bitsPerToken).toBe(card.bitsPerToken);
      expect((tokenizer.tokens.shape.reduce((a: number, b: number) => a * b, 1) * bitsPerToken) / 8).toBe(card.bytesPerImage);
    });

    it("reconstructs 200 held-out digits within 0.3 dB of the card's PSNR, leaving no tensor behind", async () => {
      const tokenizer = tokenizers.get(pair.tokenizer)!;
      const images = await testDigits(200);
      let heldOut = 0;
      await expectNoLeak(async () => {
        const tokens = await tokenizer.encode(images);
        expect(tokens.dtype).toBe('int32');
        expect(tokens.shape).toEqual([200, ...pair.tokens]);
        const recon = await tokenizer.decode(tokens);
        const mean = tf.tidy(() => tf.mean(psnr(tf.clipByValue(recon, 0, 1), images)));
        heldOut = (await mean.data())[0];
        tf.dispose([tokens, recon, mean]);
      }, 'encode → decode');
      images.dispose();
      expect(Math.abs(heldOut - pretrainedCard(pair.tokenizer).metrics.heldOutPsnr!)).toBeLessThan(0.3);
    });
  });

  describe(pair.generator, () => {
    it(`generates over ${pair.tokenizer}'s tokens with the card's recommended sampling as its defaults`, () => {
      const card = pretrainedCard(pair.generator);
      const generator = generators.get(pair.generator)!;
      expect(generator.numClasses).toBe(10);
      expect(generator.tokens).toMatchObject(pretrainedCard(pair.tokenizer).tokens);
      expect(generator.config.sampling).toMatchObject(card.sampling!);
    });

    it(`composes with ${pair.tokenizer} into a pipeline that draws one image per class`, async () => {
      const pipeline = composePipeline({ tokenizer: tokenizers.get(pair.tokenizer)!, generator: generators.get(pair.generator)! });
      const classes = Array.from({ length: 10 }, (_, i) => i);
      const images = await expectOnlyResult(() => pipeline.generate({ classes, seed: 0 }), 'generate');
      expect(images.shape).toEqual([10, 32, 32, 3]);
      const values = Array.from(await images.data());
      images.dispose();
      const [min, max] = [Math.min(...values), Math.max(...values)];
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min, 'not a blank image').toBeGreaterThan(0.5);
    });
  });
}

describe('memory', () => {
  it('frees every tensor of every model on dispose', async () => {
    const before = tf.memory().numTensors;
    const models = await Promise.all(PRETRAINED_NAMES.map((name) => loadPretrained(name)));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    for (const m of models) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
