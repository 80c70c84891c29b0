/**
 * The MAGVIT-v2 tokenizer as a TrainableTokenizer: forward gives encode's tokens, decode's images before
 * the clamp, the LFQ's training losses, gradients that reach encoder and decoder, and no leaked tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SeededRandom, ShapeError } from '@vtok/core';
import { disposeAll, expectAllClose, expectError, expectExact, expectGradientsReach, expectNoLeak } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createMagvit2 } from '../src';
import { smallConfig } from './helpers/small-config';

const tokenizers = { image: createMagvit2(smallConfig(false), { seed: 3 }), video: createMagvit2(smallConfig(true), { seed: 4 }) };
afterAll(() => Object.values(tokenizers).forEach((t) => t.dispose()));

// The video runs on a short, small clip (3 frames of 8², any size the architecture takes): the cpu backward pass is slow.
const shapes = { image: [2, 16, 16, 3], video: [1, 3, 8, 8, 3] };
const pixels = (shape: readonly number[], seed: number) => new SeededRandom(seed).uniform([...shape], 0, 1);

describe('Magvit2Tokenizer.forward', () => {
  for (const name of ['image', 'video'] as const) {
    const tok = tokenizers[name];
    const shape = shapes[name];
    it(`${name}: indices = encode's tokens, reconstruction clamped = decode(tokens), LFQ losses in training`, async () => {
      const x = pixels(shape, 1);
      const out = tok.forward(x, { training: true });
      expect(out.logits).toBeUndefined();
      expect(out.reconstruction!.shape).toEqual(x.shape);
      expect(out.indices.shape).toEqual([shape[0], ...tok.tokenShapeFor(shape.slice(1))]);
      const tokens = await tok.encode(x);
      await expectExact(out.indices, tokens, 'indices');
      const decoded = await tok.decode(tokens);
      const clamped = tf.clipByValue(out.reconstruction!, 0, 1);
      await expectAllClose(clamped, decoded, { atol: 1e-5, rtol: 1e-5 }, 'reconstruction');
      expect(Object.keys(out.losses).sort()).toEqual(['aux', 'codebookEntropy', 'commitment', 'perSampleEntropy']);
      disposeAll([out, tokens, decoded, clamped, x]);
    });

    it(`${name}: leaves only its result behind, in training and not`, async () => {
      const x = pixels(shape, 2);
      await expectNoLeak(() => tok.forward(x, { training: true }), `${name} forward (training)`);
      await expectNoLeak(() => tok.forward(x), `${name} forward`);
      x.dispose();
    });

    it(`${name}: L2 + LFQ aux loss has finite gradients reaching encoder and decoder`, async () => {
      const x = pixels(shape, 3);
      const loss = () => {
        const { reconstruction, losses } = tok.forward(x, { training: true });
        return tf.add(tf.mean(tf.squaredDifference(reconstruction!, x)), losses.aux) as tf.Scalar;
      };
      const before = tf.memory().numTensors;
      await expectGradientsReach(tok.model, loss, ['encoder.', 'decoder.']);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('checks shapes only, and refuses a model built without one half', async () => {
    const bad = tf.zeros([1, 15, 16, 3]);
    await expectError(() => tokenizers.image.forward(bad), ShapeError, /Magvit2Tokenizer\.forward/);
    bad.dispose();
    const encoderOnly = createMagvit2(smallConfig(false), { seed: 5, parts: ['encoder'] });
    const x = pixels([1, ...encoderOnly.inputShape], 4);
    await expectError(() => encoderOnly.forward(x), ConfigError, /needs the encoder and the decoder.*without its decoder/);
    tf.dispose(x);
    encoderOnly.dispose();
  });
});
