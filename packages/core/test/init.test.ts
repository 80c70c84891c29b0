// Initialisation follows PyTorch's defaults and is reproducible from a seed.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d, Embedding, GroupNorm, LayerNorm, Linear, MultiheadAttention, randomInitSkipped, withoutRandomInit } from '../src/layers';
import { SeededRandom } from '../src/random';

const values = async (t: tf.Tensor) => Array.from(await t.data());
const maxAbs = (v: number[]) => Math.max(...v.map(Math.abs));

describe('initialisation', () => {
  it('Linear: weight and bias in U(±1/√in), as kaiming_uniform_(a=√5)', async () => {
    const m = new Linear(16, 32, { rng: new SeededRandom(1) });
    const w = await values(m.weight);
    const b = await values(m.bias!);
    expect(maxAbs(w)).toBeLessThanOrEqual(0.25);
    expect(maxAbs(w)).toBeGreaterThan(0.2); // 512 draws reach near the bound
    expect(maxAbs(b)).toBeLessThanOrEqual(0.25);
    m.dispose();
  });

  it('Conv2d uses fan_in = in·kh·kw', async () => {
    const m = new Conv2d(2, 8, 3, { rng: new SeededRandom(2) });
    const bound = 1 / Math.sqrt(2 * 9);
    expect(maxAbs(await values(m.weight))).toBeLessThanOrEqual(bound);
    expect(maxAbs(await values(m.weight))).toBeGreaterThan(0.8 * bound);
    m.dispose();
  });

  it('MultiheadAttention: xavier-uniform in_proj_weight, zero biases', async () => {
    const m = new MultiheadAttention(8, 2, { rng: new SeededRandom(3) });
    const bound = Math.sqrt(6 / (8 + 24));
    const w = await values(m.inProjWeight!);
    expect(maxAbs(w)).toBeLessThanOrEqual(bound);
    expect(maxAbs(w)).toBeGreaterThan(0.8 * bound);
    expect(await values(m.inProjBias!)).toEqual(new Array(24).fill(0));
    expect(await values(m.outProj.bias!)).toEqual(new Array(8).fill(0));
    m.dispose();
  });

  it('norms start at weight 1, bias 0; Embedding draws N(0, 1)', async () => {
    const ln = new LayerNorm(3);
    const gn = new GroupNorm(1, 3);
    expect(await values(ln.weight!)).toEqual([1, 1, 1]);
    expect(await values(gn.bias!)).toEqual([0, 0, 0]);
    const e = new Embedding(100, 10, { rng: new SeededRandom(4) });
    const v = await values(e.weight);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(std - 1)).toBeLessThan(0.1);
    for (const m of [ln, gn, e]) m.dispose();
  });

  it('the same seed gives the same parameters; no seed gives fresh ones', async () => {
    const a = new Linear(4, 4, { rng: new SeededRandom(7) });
    const b = new Linear(4, 4, { rng: new SeededRandom(7) });
    const c = new Linear(4, 4);
    expect(await values(a.weight)).toEqual(await values(b.weight));
    expect(await values(a.weight)).not.toEqual(await values(c.weight));
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('withoutRandomInit', () => {
  it('builds layers with zero weights, draws nothing from the rng, and restores drawing afterwards', async () => {
    const rng = new SeededRandom(3);
    const [linear, embedding, attention, conv] = withoutRandomInit(() => {
      expect(randomInitSkipped()).toBe(true);
      return [new Linear(4, 3, { rng }), new Embedding(5, 2, { rng }), new MultiheadAttention(4, 2, { rng }), new Conv2d(2, 3, 3, { rng })];
    });
    expect(randomInitSkipped()).toBe(false);
    for (const t of [linear.weight, linear.bias!, embedding.weight, attention.inProjWeight!, attention.outProj.weight, conv.weight]) {
      expect(maxAbs(await values(t))).toBe(0);
    }
    // Nothing was drawn: the rng still gives its first number.
    expect(rng.nextUint32()).toBe(new SeededRandom(3).nextUint32());
    const drawn = new Linear(4, 3, { rng: new SeededRandom(1) });
    expect(maxAbs(await values(drawn.weight))).toBeGreaterThan(0);
    for (const m of [linear, embedding, attention, conv, drawn]) m.dispose();
  });

  it('nests, and restores drawing when the build throws', () => {
    expect(() =>
      withoutRandomInit(() => {
        withoutRandomInit(() => undefined);
        expect(randomInitSkipped()).toBe(true);
        throw new Error('bad config');
      }),
    ).toThrow('bad config');
    expect(randomInitSkipped()).toBe(false);
  });
});
