// MaskGIT over MAGVIT-v2 (issue 6): the same generator class over a 2D token grid, paired with the
// Open-MAGVIT2 image tokenizer through composePipeline; a generator over another grid is refused.
import * as tf from '@tensorflow/tfjs-core';
import { TokenSpaceMismatchError } from '@vtok/core';
import { afterAll, describe, expect, it } from 'vitest';
import { pairModels } from '../src/pipeline';
import { smallGenerator, smallMagvit2 } from './models';

const magvit2 = smallMagvit2(3);
const generator = smallGenerator(magvit2.tokens, 4);
afterAll(() => {
  magvit2.dispose();
  generator.dispose();
});

describe('MaskGIT generator + MAGVIT-v2 tokenizer', () => {
  it('samples a [4, 4] grid of LFQ codes and decodes it to images of the tokenizer size', async () => {
    expect(magvit2.tokens).toEqual({ vocabSize: 64, shape: [4, 4] });
    expect(generator.tokens).toEqual(magvit2.tokens);
    const pipeline = pairModels(magvit2, generator);
    const before = tf.memory().numTensors;
    const tokens = await generator.sample({ classes: [1, 2, 3], steps: 4, seed: 8 });
    expect(tokens.shape).toEqual([3, 4, 4]);
    const images = await pipeline.generate({ classes: [1, 2, 3], steps: 4, seed: 8 });
    expect(images.shape).toEqual([3, 16, 16, 3]);
    const decoded = await magvit2.decode(tokens);
    expect(Array.from(await images.data())).toEqual(Array.from(await decoded.data()));
    const pixels = await images.data();
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    tf.dispose([tokens, images, decoded]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a generator over a 1D sequence of the same length', () => {
    const flat = smallGenerator({ vocabSize: 64, shape: [16] });
    expect(() => pairModels(magvit2, flat)).toThrow(TokenSpaceMismatchError);
    expect(() => pairModels(magvit2, flat)).toThrow(/token shape: the tokenizer has \[4, 4\], the generator has \[16\]/);
    flat.dispose();
  });
});
