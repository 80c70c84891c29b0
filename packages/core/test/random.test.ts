import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src';

describe('SeededRandom', () => {
  it('is reproducible for a seed and differs between seeds', () => {
    const a = new SeededRandom(42).uniformArray(8);
    expect(new SeededRandom(42).uniformArray(8)).toEqual(a);
    expect(new SeededRandom(43).uniformArray(8)).not.toEqual(a);
  });

  it('continues exactly from its state(), and refuses a state that is not four non-zero 32-bit words', () => {
    const a = new SeededRandom(42);
    for (let i = 0; i < 5; i++) a.next();
    const b = SeededRandom.fromState(a.state());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(Array.from({ length: 20 }, () => a.nextUint32()));
    expect(JSON.parse(JSON.stringify(a.state()))).toEqual(a.state());
    expect(() => SeededRandom.fromState([0, 0, 0, 0])).toThrow(/four unsigned 32-bit integers, not all zero; got \[0,0,0,0\]/);
    expect(() => SeededRandom.fromState([1, 2, 3])).toThrow(TypeError);
    expect(() => SeededRandom.fromState([1, 2, 3, 2 ** 32])).toThrow(TypeError);
  });

  it('has the moments of its distributions', () => {
    const r = new SeededRandom(7);
    const n = 50_000;
    const mean = (xs: Float32Array) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const u = r.uniformArray(n);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.01);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const z = r.normalArray(n);
    expect(Math.abs(mean(z))).toBeLessThan(0.02);
    expect(Math.abs(mean(z.map((x) => x * x)) - 1)).toBeLessThan(0.03);
    // Gumbel(0,1): mean is the Euler–Mascheroni constant.
    expect(Math.abs(mean(r.gumbelArray(n)) - 0.5772)).toBeLessThan(0.02);
  });

  it('makes tensors of the requested shape', () => {
    const t = new SeededRandom(1).normal([2, 3]);
    expect(t.shape).toEqual([2, 3]);
    t.dispose();
    expect(() => new SeededRandom(Number.NaN)).toThrow(/finite/);
  });
});
