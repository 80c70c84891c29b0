// Token factorisation: configuration and argument errors (unit project, cpu).
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { TokenFactorization } from '../src/factorize';

describe('TokenFactorization config', () => {
  it('sizes and place values', () => {
    const lsb = new TokenFactorization({ codebookSize: 2 ** 18, bits: [6, 12] });
    expect(lsb.vocabSizes).toEqual([64, 4096]);
    expect(lsb.placeValues).toEqual([1, 64]);
    const msb = new TokenFactorization({ codebookSize: 2 ** 18, bits: [6, 12], bitOrder: 'msb' });
    expect(msb.placeValues).toEqual([4096, 1]);
  });

  it.each([
    [{ codebookSize: 1000, bits: [5, 5] }, /codebookSize must be a power of 2/],
    [{ codebookSize: 2 ** 26, bits: [13, 13] }, /codebookSize must be a power of 2 in \[2, 2\^24\]/],
    [{ codebookSize: 2 ** 18, bits: [9, 8] }, /bits \[9, 8\] sums to 17 bits, expected 18/],
    [{ codebookSize: 2 ** 18, bits: [18, 0] }, /positive integers/],
    [{ codebookSize: 2 ** 18, bits: [] }, /non-empty array/],
    [{ codebookSize: 2 ** 18, bits: [9, 9], bitOrder: 'little' }, /bitOrder must be 'lsb' or 'msb'/],
  ])('%j is a ConfigError', (config, message) => {
    expect(() => new TokenFactorization(config as never)).toThrow(ConfigError);
    expect(() => new TokenFactorization(config as never)).toThrow(message);
  });

  it('argument errors: dtypes, count and shapes of the sub-tokens', () => {
    const f = new TokenFactorization({ codebookSize: 2 ** 10, bits: [4, 6] });
    const floatIds = tf.zeros([3]);
    expect(() => f.split(floatIds)).toThrow(DTypeError);
    const a = tf.zeros([3], 'int32');
    const b = tf.zeros([4], 'int32');
    expect(() => f.merge([a])).toThrow(ShapeError);
    expect(() => f.merge([a])).toThrow(/expected 2 sub-token tensors, got 1/);
    expect(() => f.merge([a, b])).toThrow(/sub-tokens must share one shape, got \[3\] and \[4\] \(sub-token 1\)/);
    expect(() => f.merge([a, floatIds])).toThrow(DTypeError);
    tf.dispose([floatIds, a, b]);
  });
});
