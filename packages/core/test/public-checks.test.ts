// The checks every package's public calls share (src/validate.ts, src/batching.ts): each names the caller,
// the argument, what was expected and what came, with a typed error; value checks leave no tensor behind.
import * as tf from '@tensorflow/tfjs-core';
import { expectError } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DTypeError,
  ShapeError,
  ValueError,
  assertBatchShape,
  assertDtype,
  assertFinite,
  assertFiniteNumber,
  assertFiniteSync,
  assertIdsInRange,
  assertIdsInRangeSync,
  assertImages,
  assertNonNegativeInt,
  assertPositiveInt,
  assertTensor,
  assertTokens,
  formatShape,
  inBatches,
  readValueRange,
  readValueRangeSync,
} from '../src';

const made: tf.Tensor[] = [];
const keep = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
afterAll(() => tf.dispose(made));

describe('formatShape', () => {
  it('shows sizes and axis names, and cuts untrusted very long shapes', () => {
    expect(formatShape([2, 32, 32, 3])).toBe('[2, 32, 32, 3]');
    expect(formatShape(['B', 16])).toBe('[B, 16]');
    expect(formatShape([])).toBe('[]');
    expect(formatShape(Array.from({ length: 12 }, (_, i) => i + 1))).toBe('[1, 2, 3, 4, 5, 6, 7, 8, ... (12 dims)]');
  });
});

describe('number checks', () => {
  it('positive and non-negative integers, finite numbers with a bound; ValueError or the given class', async () => {
    assertPositiveInt(3, 'op', 'steps');
    await expectError(() => assertPositiveInt(0, 'op', 'steps'), ValueError, /^op: steps must be a positive integer, got 0$/);
    await expectError(() => assertPositiveInt(2.5, 'Cfg', 'dim', ConfigError), ConfigError, /Cfg: dim must be a positive integer, got 2\.5/);
    await expectError(() => assertPositiveInt('4', 'op', 'n'), ValueError, /got 4/);
    assertNonNegativeInt(0, 'op', 'pad');
    await expectError(() => assertNonNegativeInt(-1, 'op', 'pad'), ValueError, /pad must be a non-negative integer, got -1/);
    assertFiniteNumber(-2, 'op', 'x');
    assertFiniteNumber(0, 'op', 'x', { min: 0 });
    await expectError(() => assertFiniteNumber(Number.NaN, 'op', 'x'), ValueError, /x must be a finite number, got NaN/);
    await expectError(() => assertFiniteNumber(-1, 'op', 'guidance', { min: 0 }), ValueError, /guidance must be a finite number >= 0, got -1/);
    await expectError(() => assertFiniteNumber(0, 'Cfg', 'eps', { min: 0, exclusive: true, ErrorClass: ConfigError }), ConfigError, /eps must be a finite number > 0, got 0/);
  });
});

describe('tensor kind, dtype and batch shape', () => {
  it('assertTensor refuses other values and disposed tensors', async () => {
    await expectError(() => assertTensor([1, 2], 'encode', 'images'), ValueError, /encode: images must be a tf\.Tensor, got an array/);
    await expectError(() => assertTensor(null, 'encode', 'images'), ValueError, /got null/);
    const t = tf.zeros([1]);
    t.dispose();
    await expectError(() => assertTensor(t, 'encode', 'images'), ValueError, /encode: images is disposed/);
  });

  it('assertDtype says what was expected, what came, the shape, and how to fix it', async () => {
    const ids = keep(tf.zeros([2, 3], 'int32'));
    assertDtype(ids, 'int32', 'op', 'ids');
    await expectError(() => assertDtype(ids, 'float32', 'op', 'x'), DTypeError, /^op: x must be float32, got int32 \(shape \[2, 3\]\)$/);
    await expectError(
      () => assertDtype(ids, 'float32', 'encode', 'images', { note: 'in [0, 1]', hint: 'divide uint8 pixels by 255' }),
      DTypeError,
      /encode: images must be float32 in \[0, 1\], got int32 \(shape \[2, 3\]\) \(divide uint8 pixels by 255\)/,
    );
  });

  it('assertBatchShape: [B, ...shape] or an alternative layout, at least one sample; returns B', async () => {
    expect(assertBatchShape(keep(tf.zeros([2, 4, 4])), [4, 4], 'op', 'tokens', { alternatives: [[16]] })).toBe(2);
    expect(assertBatchShape(keep(tf.zeros([3, 16])), [4, 4], 'op', 'tokens', { alternatives: [[16]] })).toBe(3);
    const x1 = keep(tf.zeros([2, 5]));
    await expectError(() => assertBatchShape(x1, [4, 4], 'op', 'tokens', { alternatives: [[16]] }), ShapeError, /op: expected tokens \[B, 4, 4\] or \[B, 16\], got \[2, 5\]/);
    const x2 = keep(tf.zeros([4, 4]));
    await expectError(() => assertBatchShape(x2, [4, 4], 'op', 'tokens'), ShapeError, /expected tokens \[B, 4, 4\], got \[4, 4\]/);
    const x3 = keep(tf.zeros([0, 8]));
    await expectError(() => assertBatchShape(x3, [8], 'op', 'tokens'), ShapeError, /tokens must hold at least one sample, got shape \[0, 8\]/);
    expect(assertBatchShape(keep(tf.zeros([0, 8])), [8], 'op', 'tokens', { allowEmpty: true })).toBe(0);
  });
});

describe('value checks', () => {
  const bad = () => keep(tf.tensor2d([[0, Number.NaN, 2], [Number.POSITIVE_INFINITY, -3, 1]]));

  it('readValueRange: non-finite count, min and max of the finite values (async and sync agree)', async () => {
    expect(await readValueRange(bad())).toEqual({ nonFinite: 2, min: -3, max: 2 });
    expect(readValueRangeSync(bad())).toEqual({ nonFinite: 2, min: -3, max: 2 });
    expect(await readValueRange(keep(tf.tensor1d([5, -1, 7], 'int32')))).toEqual({ nonFinite: 0, min: -1, max: 7 });
    expect(await readValueRange(keep(tf.zeros([0, 3])))).toEqual({ nonFinite: 0, min: 0, max: 0 });
  });

  it('assertFinite / assertFiniteSync count the NaN and infinite values', async () => {
    await assertFinite(keep(tf.ones([2, 2])), 'op', 'latents');
    const nonFinite = bad();
    await expectError(() => assertFinite(nonFinite, 'encode', 'latents'), ValueError, /^encode: latents must be finite, got 2 NaN or infinite values in shape \[2, 3\]$/);
    const x4 = keep(tf.tensor1d([Number.NaN]));
    await expectError(() => assertFiniteSync(x4, 'q', 'latents'), ValueError, /got 1 NaN or infinite value in shape \[1\]/);
  });

  it('assertIdsInRange / Sync: int32, within [0, size)', async () => {
    const ids = keep(tf.tensor1d([0, 3, 7], 'int32'));
    await assertIdsInRange(ids, 8, 'op', 'token ids');
    assertIdsInRangeSync(ids, 8, 'op', 'token ids');
    await assertIdsInRange(keep(tf.zeros([0], 'int32')), 1, 'op', 'ids');
    await expectError(() => assertIdsInRange(ids, 7, 'decode', 'token ids'), ValueError, /^decode: token ids must be in \[0, 6\] \(vocabulary size 7\), got values from 0 to 7 in shape \[3\]$/);
    const x5 = keep(tf.tensor1d([-1], 'int32'));
    await expectError(() => assertIdsInRangeSync(x5, 4, 'lookup', 'code indices', { sizeName: 'codebook size' }), ValueError, /\(codebook size 4\), got values from -1 to -1/);
    const x6 = keep(tf.zeros([2]));
    await expectError(() => assertIdsInRange(x6, 4, 'op', 'ids'), DTypeError, /ids must be int32, got float32/);
  });
});

describe('images and tokens at the API', () => {
  it('assertImages: float32 [B, H, W, 3] in [0, 1], finite, of the size asked for', async () => {
    await assertImages(keep(tf.fill([2, 4, 6, 3], 0.5)), 'encode');
    await assertImages(keep(tf.fill([1, 4, 4, 3], 0.5)), 'encode', { size: [4, 4] });
    await assertImages(keep(tf.fill([1, 4, 4, 3], -1)), 'encode', { range: [-1, 1] });
    await expectError(() => assertImages('x', 'encode'), ValueError, /encode: images must be a tf\.Tensor/);
    const x7 = keep(tf.zeros([1, 4, 4, 3], 'int32'));
    await expectError(() => assertImages(x7, 'encode'), DTypeError, /images must be float32 in \[0, 1\], got int32 .*divide uint8 pixels by 255/);
    const x8 = keep(tf.zeros([4, 4, 3]));
    await expectError(() => assertImages(x8, 'encode', { size: [4, 4] }), ShapeError, /expected images of rank 4 \[B, 4, 4, 3\], got rank 3 with shape \[4, 4, 3\]/);
    const x9 = keep(tf.zeros([1, 3, 4, 4]));
    await expectError(() => assertImages(x9, 'encode'), ShapeError, /expected 3 channels \(RGB, channels last\) in \[B, H, W, 3\], got 4/);
    const x10 = keep(tf.zeros([1, 5, 4, 3]));
    await expectError(() => assertImages(x10, 'encode', { size: [4, 4] }), ShapeError, /expected 4×4 images \[B, 4, 4, 3\], got 5×4 .*resize and crop first/);
    const x11 = keep(tf.fill([1, 2, 2, 3], Number.NaN));
    await expectError(() => assertImages(x11, 'encode'), ValueError, /images must be finite, got 12 NaN or infinite values/);
    const x12 = keep(tf.fill([1, 2, 2, 3], 255));
    await expectError(() => assertImages(x12, 'encode'), ValueError, /image values must be in \[0, 1\], got values in \[255, 255\] \(divide uint8 pixels by 255\)/);
  });

  it('assertTokens: int32 ids of the token space, in the alternatives given, returns B', async () => {
    const space = { vocabSize: 10, shape: [2, 2] };
    expect(await assertTokens(keep(tf.zeros([3, 2, 2], 'int32')), space, 'decode', { alternatives: [[4]] })).toBe(3);
    expect(await assertTokens(keep(tf.zeros([1, 4], 'int32')), space, 'decode', { alternatives: [[4]] })).toBe(1);
    expect(await assertTokens(keep(tf.zeros([0, 2, 2], 'int32')), space, 'decode', { allowEmpty: true })).toBe(0);
    const x13 = keep(tf.zeros([1, 2, 2]));
    await expectError(() => assertTokens(x13, space, 'decode'), DTypeError, /decode: tokens must be int32 ids, got float32/);
    const x14 = keep(tf.zeros([1, 4], 'int32'));
    await expectError(() => assertTokens(x14, space, 'decode'), ShapeError, /expected tokens \[B, 2, 2\], got \[1, 4\]/);
    const x15 = keep(tf.fill([1, 2, 2], 10, 'int32'));
    await expectError(() => assertTokens(x15, space, 'decode'), ValueError, /token ids must be in \[0, 9\] \(vocabulary size 10\), got values from 10 to 10/);
  });
});

describe('inBatches', () => {
  it('runs chunks of at most `size` samples and concatenates them, freeing every chunk', async () => {
    const x = keep(tf.tensor2d([0, 1, 2, 3, 4], [5, 1]));
    const sizes: number[] = [];
    const before = tf.memory().numTensors;
    const y = await inBatches(x, 2, (chunk) => {
      sizes.push(chunk.shape[0]);
      return tf.mul(chunk, 10);
    });
    expect(sizes).toEqual([2, 2, 1]);
    expect(Array.from(await y.data())).toEqual([0, 10, 20, 30, 40]);
    expect(tf.memory().numTensors - before).toBe(1);
    y.dispose();
    const whole = await inBatches(x, 8, (chunk) => tf.add(chunk, 0));
    expect(whole.shape).toEqual([5, 1]);
    whole.dispose();
  });
});
