/** The rearranged block forward computes what core's ResidualAttentionBlock computes, on every backend. */
import * as tf from '@tensorflow/tfjs-core';
import { ResidualAttentionBlock, SeededRandom } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { residualAttentionBlock } from '../src/block';

describe(`residualAttentionBlock (${process.env.VTOK_TEST_BACKEND ?? 'cpu'})`, () => {
  for (const [batch, n, width, heads] of [
    [1, 7, 16, 2],
    [3, 25, 48, 4],
  ] as const) {
    it(`equals ResidualAttentionBlock.forward for [${batch}, ${n}, ${width}], ${heads} heads`, async () => {
      const rng = new SeededRandom(width + n);
      const block = new ResidualAttentionBlock(width, heads, { rng });
      // Non-trivial norms and biases, so a misplaced one shows.
      for (const [, v] of block.namedParameters()) {
        const r = rng.normal(v.shape, 0, v.rank === 1 ? 0.3 : 0.4);
        v.assign(v.rank === 1 && v.name.includes('weight') ? tf.add(r, 1) : r);
        r.dispose();
      }
      const x = rng.normal([batch, n, width]);
      const expected = block.forward(x);
      const before = tf.memory().numTensors;
      const got = residualAttentionBlock(block, x);
      expect(tf.memory().numTensors).toBe(before + 1);
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(got, expected))));
      expect((await err.data())[0]).toBeLessThan(1e-5 * Math.max(1, (await tf.max(tf.abs(expected)).data())[0]));
      tf.dispose([x, expected, got, err]);
      block.dispose();
    });
  }
});
