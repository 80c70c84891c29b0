import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, ShapeError, ValueError } from '@vtok/core';
import { expectAllClose } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { createMaskGIT, dropClasses, maskCountAt, maskTokens, mlmLoss } from '../src';

/** Hands out the given numbers in order, as a UniformSource. */
const scripted = (values: number[]) => ({ next: () => (values.length ? values.shift()! : Number.NaN) });

describe('maskTokens (masking_input_tokens)', () => {
  it('masks round(L·clamp(arccos(t)/(π/2), 1e-6, 1)) tokens, at least one', () => {
    expect(maskCountAt('arccos', 0, 32)).toBe(32);
    expect(maskCountAt('arccos', 0.7, 4)).toBe(2);
    expect(maskCountAt('arccos', 0.999999, 32)).toBe(1);
    // round half to even, as torch.round: linear at t = 0.375 gives 0.625·4 = 2.5 → 2; t = 0.125 gives 3.5 → 4.
    expect(maskCountAt('linear', 0.375, 4)).toBe(2);
    expect(maskCountAt('linear', 0.125, 4)).toBe(4);
  });

  it('picks the positions whose argsort rank is below the count, per sample', async () => {
    const tokens = tf.tensor2d([[5, 6, 7, 8], [1, 2, 3, 4]], [2, 4], 'int32');
    // Timesteps 0.7 (2 masked) and 0 (all 4), then one row of ranking draws per sample.
    const random = scripted([0.7, 0, 0.4, 0.1, 0.3, 0.2, 0.9, 0.8, 0.7, 0.6]);
    const { masked, mask } = maskTokens(tokens, { maskId: 99, random });
    // argsort([0.4, 0.1, 0.3, 0.2]) = [1, 3, 2, 0]: positions 0 and 3 hold ranks < 2.
    expect(await mask.array()).toEqual([[1, 0, 0, 1], [1, 1, 1, 1]]);
    expect(await masked.array()).toEqual([[99, 6, 7, 99], [99, 99, 99, 99]]);
    expect(mask.dtype).toBe('bool');
    tf.dispose([tokens, masked, mask]);
  });

  it('keeps the token shape (2D grids), draws from a seed reproducibly, and checks its input', async () => {
    const tokens = tf.zeros([3, 4, 4], 'int32');
    const a = maskTokens(tokens, { maskId: 7, seed: 1 });
    const b = maskTokens(tokens, { maskId: 7, seed: 1 });
    expect(a.masked.shape).toEqual([3, 4, 4]);
    expect(await a.masked.array()).toEqual(await b.masked.array());
    const rows = (await a.mask.array()) as number[][][];
    const rng = new SeededRandom(1);
    const expectedCounts = [0, 1, 2].map(() => maskCountAt('arccos', rng.next(), 16));
    expect(rows.map((r) => r.flat().filter(Boolean).length)).toEqual(expectedCounts);
    tf.dispose([tokens, a.masked, a.mask, b.masked, b.mask]);
    expect(() => maskTokens(tf.zeros([4], 'int32'), { maskId: 1 })).toThrow(ShapeError);
    expect(() => maskTokens(tf.zeros([2, 4], 'int32'), { maskId: -1 })).toThrow(ValueError);
  });

  it('drops classes with the given probability', () => {
    expect(dropClasses(4, 0.1, scripted([0.05, 0.5, 0.0999, 0.1]))).toEqual([true, false, true, false]);
    const many = dropClasses(10000, 0.1, new SeededRandom(2));
    expect(many.filter(Boolean).length).toBeGreaterThan(900);
    expect(many.filter(Boolean).length).toBeLessThan(1100);
    expect(() => dropClasses(2, 1.5)).toThrow(/probability must be in \[0, 1\]/);
  });
});

describe('mlmLoss (MLMLoss)', () => {
  it('equals the float64 formula: smoothed CE, weights 1 masked / 0.1 unmasked, normalised by their sum', async () => {
    const rng = new SeededRandom(4);
    const [B, L, K] = [2, 5, 7];
    const logits = rng.normalArray(B * L * K, 0, 2);
    const targets = Int32Array.from({ length: B * L }, () => rng.nextInt(K));
    const mask = Uint8Array.from({ length: B * L }, () => (rng.next() < 0.5 ? 1 : 0));
    let num = 0;
    let den = 0;
    const perSample: number[] = [];
    for (let b = 0; b < B; b++) {
      let hits = 0;
      let masked = 0;
      for (let l = 0; l < L; l++) {
        const row = Array.from(logits.subarray((b * L + l) * K, (b * L + l + 1) * K));
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        const logp = row.map((v) => v - lse);
        const ce = 0.9 * -logp[targets[b * L + l]] + 0.1 * -(logp.reduce((s, v) => s + v, 0) / K);
        const w = mask[b * L + l] ? 1 : 0.1;
        num += w * ce;
        den += w;
        if (mask[b * L + l]) {
          masked++;
          if (row.indexOf(max) === targets[b * L + l]) hits++;
        }
      }
      perSample.push(hits / (masked + 1e-8));
    }
    const t = { logits: tf.tensor3d(logits, [B, L, K]), targets: tf.tensor2d(targets, [B, L], 'int32'), mask: tf.tensor2d(mask, [B, L], 'bool') };
    const before = tf.memory().numTensors;
    const { loss, correctTokens } = mlmLoss(t.logits, t.targets, t.mask);
    expect(tf.memory().numTensors - before).toBe(2);
    await expectAllClose([await loss.array()], [num / (den + 1e-8)], { atol: 1e-6, rtol: 1e-5 }, 'loss');
    await expectAllClose([await correctTokens.array()], [perSample.reduce((a, b) => a + b) / B], { atol: 1e-6, rtol: 1e-5 }, 'correct tokens');
    tf.dispose([loss, correctTokens, ...Object.values(t)]);
    expect(() => mlmLoss(tf.zeros([2, 3]), tf.zeros([2, 3], 'int32'), tf.zeros([2, 3]))).toThrow(/logits must be \[B, L, K\]/);
  });

  it('trains a generator end to end: mask, drop classes, logits, loss, gradients; the loss goes down', async () => {
    const model = createMaskGIT({ codebookSize: 8, numClasses: 2, tokenShape: [6], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, dropout: 0, attnDrop: 0 }, { seed: 1 });
    // Class 0 always shows tokens 0..5, class 1 their reverse: learnable from the class token alone.
    const tokens = tf.tensor2d([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]], [2, 6], 'int32');
    const classes = [0, 1];
    const before = tf.memory().numTensors;
    const optimizer = tf.train.adam(0.01);
    const random = new SeededRandom(3);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const { masked, mask } = maskTokens(tokens, { maskId: model.vocabulary.maskId, random });
      const drop = dropClasses(2, 0, random);
      const cost = optimizer.minimize(() => mlmLoss(model.logits(masked, classes, { dropCondition: drop, training: true }), tokens, mask).loss, true);
      losses.push((await cost!.data())[0]);
      tf.dispose([cost!, masked, mask]);
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    optimizer.dispose();
    // Once the optimiser (and its moment variables) is gone, no tensor is left from training.
    expect(tf.memory().numTensors - before).toBe(0);
    tokens.dispose();
    model.dispose();
  });

  it('trainingLoss is the same objective in one call: equal to the pieces with the same draws, and it trains', async () => {
    const model = createMaskGIT({ codebookSize: 8, numClasses: 2, tokenShape: [6], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, dropout: 0, attnDrop: 0, classLabelDropout: 0.5 }, { seed: 1 });
    const tokens = tf.tensor2d([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]], [2, 6], 'int32');
    const classes = tf.tensor1d([0, 1], 'int32');
    const before = tf.memory().numTensors;
    const one = model.trainingLoss(tokens, classes, { random: new SeededRandom(9) });
    const r = new SeededRandom(9);
    const { masked, mask } = maskTokens(tokens, { maskId: model.vocabulary.maskId, random: r });
    const drop = dropClasses(2, 0.5, r);
    const logits = model.logits(masked, classes, { dropCondition: drop, training: true });
    const pieces = mlmLoss(logits, tokens, mask);
    expect((await one.loss.data())[0]).toBe((await pieces.loss.data())[0]);
    expect((await one.logs.accuracy.data())[0]).toBe((await pieces.correctTokens.data())[0]);
    tf.dispose([one.loss, one.logs.accuracy, pieces.loss, pieces.correctTokens, masked, mask, logits]);
    expect(tf.memory().numTensors - before).toBe(0);
    const optimizer = tf.train.adam(0.01);
    const random = new SeededRandom(3);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const cost = optimizer.minimize(() => {
        const { loss, logs } = model.trainingLoss(tokens, classes, { random, classDropout: 0 });
        logs.accuracy.dispose();
        return loss;
      }, true);
      losses.push((await cost!.data())[0]);
      cost!.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    optimizer.dispose();
    expect(tf.memory().numTensors - before).toBe(0);
    expect(() => model.trainingLoss(tokens, classes, {} as never)).toThrow(/options.random must be a source of uniform numbers/);
    tf.dispose([tokens, classes]);
    model.dispose();
  });
});
