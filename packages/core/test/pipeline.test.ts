import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { composePipeline, type Generator, type Tokenizer, TokenSpaceMismatchError, type TokenSpace } from '../src';

// A tokenizer over a 2D grid: each 2x2 patch's mean gray level becomes one of `levels` tokens.
function gridTokenizer(levels: number): Tokenizer {
  const tokens: TokenSpace = { vocabSize: levels, shape: [2, 2] };
  return {
    specificationVersion: 'v1',
    tokens,
    inputShape: [4, 4, 3],
    encode: async (images) =>
      tf.tidy(() => {
        const gray = tf.mean(images, -1, true);
        const pooled = tf.avgPool(gray as tf.Tensor4D, 2, 2, 'valid');
        return tf.cast(tf.squeeze(tf.minimum(tf.floor(tf.mul(pooled, levels)), levels - 1), [-1]), 'int32');
      }),
    decode: async (ids) =>
      tf.tidy(() => {
        const gray = tf.div(tf.add(tf.cast(ids, 'float32'), 0.5), levels);
        const up = tf.image.resizeNearestNeighbor(tf.expandDims(gray, -1) as tf.Tensor4D, [4, 4]);
        return tf.tile(up, [1, 1, 1, 3]);
      }),
    dispose: () => {},
  };
}

function constantGenerator(tokens: TokenSpace): Generator {
  return {
    specificationVersion: 'v1',
    tokens,
    numClasses: 10,
    sample: async ({ classes, onProgress }) => {
      onProgress?.({ type: 'step', step: 1, of: 1 });
      const b = classes.length;
      return tf.tidy(() => tf.mod(tf.add(tf.zeros([b, ...tokens.shape], 'int32'), tf.reshape(tf.tensor1d(Array.from(classes), 'int32'), [b, 1, 1])), tokens.vocabSize));
    },
    dispose: () => {},
  };
}

describe('composePipeline', () => {
  it('generates images through the tokenizer and leaks nothing', async () => {
    const tokenizer = gridTokenizer(4);
    const pipe = composePipeline({ tokenizer, generator: constantGenerator(tokenizer.tokens) });
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const images = await pipe.generate({ classes: [1, 3], onProgress: (e) => steps.push(e.step) });
    expect(images.shape).toEqual([2, 4, 4, 3]);
    expect(steps).toEqual([1]);
    const v = await images.data();
    expect(v[0]).toBeCloseTo(1.5 / 4);
    expect(v[48]).toBeCloseTo(3.5 / 4);
    images.dispose();
    const input = tf.fill([1, 4, 4, 3], 0.6);
    const recon = await pipe.reconstruct(input);
    input.dispose();
    expect(Array.from(await recon.data()).every((x) => Math.abs(x - 2.5 / 4) < 1e-6)).toBe(true);
    recon.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a generator of another vocabulary or shape and says how they differ', () => {
    const tokenizer = gridTokenizer(4);
    expect(() => composePipeline({ tokenizer, generator: constantGenerator({ vocabSize: 8, shape: [4] }) })).toThrow(TokenSpaceMismatchError);
    try {
      composePipeline({ tokenizer, generator: constantGenerator({ vocabSize: 8, shape: [4] }) });
    } catch (e) {
      expect((e as Error).message).toContain('vocabulary size: the tokenizer has 4, the generator has 8');
      expect((e as Error).message).toContain('token shape: the tokenizer has [2, 2], the generator has [4]');
    }
  });
});
