import * as tf from '@tensorflow/tfjs-core';
import { TokenSpaceMismatchError, type Tokenizer, composePipeline } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { type MaskGITStepEvent, createMaskGIT } from '../src';

/**
 * A small tokenizer over a 2D grid, as a MAGVIT-v2-style tokenizer looks to the generator: each 2×2
 * patch's mean gray level becomes one of `levels` tokens, so [8, 8, 3] images are [4, 4] token grids.
 */
function gridTokenizer(levels: number, grid = 4): Tokenizer {
  return {
    specificationVersion: 'v1',
    tokens: { vocabSize: levels, shape: [grid, grid] },
    inputShape: [2 * grid, 2 * grid, 3],
    encode: async (images) =>
      tf.tidy(() => {
        const pooled = tf.avgPool(tf.mean(images, -1, true) as tf.Tensor4D, 2, 2, 'valid');
        return tf.cast(tf.squeeze(tf.minimum(tf.floor(tf.mul(pooled, levels)), levels - 1), [-1]), 'int32');
      }),
    decode: async (ids) =>
      tf.tidy(() => {
        const gray = tf.div(tf.add(tf.cast(ids, 'float32'), 0.5), levels);
        return tf.tile(tf.image.resizeNearestNeighbor(tf.expandDims(gray, -1) as tf.Tensor4D, [2 * grid, 2 * grid]), [1, 1, 1, 3]);
      }),
    dispose: () => {},
  };
}

const generatorFor = (vocab: number, tokenShape: number[]) =>
  createMaskGIT({ codebookSize: vocab, numClasses: 3, tokenShape, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32 }, { seed: 1 });

describe('composePipeline with a MaskGIT generator', () => {
  it('generates images through a 2D-grid tokenizer and reconstructs, leaking nothing', async () => {
    const tokenizer = gridTokenizer(8);
    const generator = generatorFor(8, [4, 4]);
    const pipe = composePipeline({ tokenizer, generator });
    const before = tf.memory().numTensors;
    const steps: MaskGITStepEvent[] = [];
    const images = await pipe.generate({ classes: [0, 2], steps: 3, guidanceScale: 1.5, seed: 7, onProgress: (e) => steps.push(e as MaskGITStepEvent) });
    expect(images.shape).toEqual([2, 8, 8, 3]);
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3]);
    // Each decoded 2×2 patch is one token's gray level: the images are made of the sampled tokens.
    const last = steps[2].tokens;
    const pixels = await images.data();
    expect(pixels[0]).toBeCloseTo((last[0] + 0.5) / 8, 6);
    images.dispose();
    const input = tf.fill([1, 8, 8, 3], 0.3);
    const recon = await pipe.reconstruct(input);
    expect(recon.shape).toEqual([1, 8, 8, 3]);
    tf.dispose([input, recon]);
    expect(tf.memory().numTensors).toBe(before);
    generator.dispose();
  });

  it('refuses a generator of another vocabulary or length, stating both', () => {
    const tokenizer = gridTokenizer(8);
    const wrongVocab = generatorFor(16, [4, 4]);
    const wrongShape = generatorFor(8, [16]);
    expect(() => composePipeline({ tokenizer, generator: wrongVocab })).toThrow(TokenSpaceMismatchError);
    expect(() => composePipeline({ tokenizer, generator: wrongVocab })).toThrow(/vocabulary size: the tokenizer has 8, the generator has 16/);
    expect(() => composePipeline({ tokenizer, generator: wrongShape })).toThrow(/token shape: the tokenizer has \[4, 4\], the generator has \[16\]/);
    wrongVocab.dispose();
    wrongShape.dispose();
  });
});
