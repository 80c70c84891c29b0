// EMA of weights against the official EMAModel's decay rule and update, in float64; apply/restore; state.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, StateDictError, ValueError } from '@vtok/core';
import { disposeAll, expectClose, expectError, expectExact, expectOnlyResult, expectTensorDelta, normals } from '@vtok/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { EMA } from '../src/ema';
import { TinyModel, snapshot } from './helpers';

const TOL = 1e-6;

const models: TinyModel[] = [];
const make = (seed = 1) => {
  const m = new TinyModel(seed);
  models.push(m);
  return m;
};
afterEach(() => models.splice(0).forEach((m) => m.dispose()));

/** Moves every trainable parameter by seeded noise (a stand-in for an optimiser step). */
function perturb(model: TinyModel, seed: number): void {
  let k = 0;
  for (const [, v] of model.namedParameters()) {
    k += 1;
    if (!v.trainable) continue;
    tf.tidy(() => v.assign(tf.add(v, tf.tensor(Float32Array.from(normals(v.size, seed * 100 + k, 0.3)), v.shape))));
  }
}

describe('EMA', () => {
  it("the official decay: 0 at the first update, (1 + s)/(10 + s) after, capped at 0.999; 'power' and 'none'; updateAfterStep", () => {
    const model = make();
    const e = new EMA(model);
    expect(e.decayAt(1)).toBe(0);
    expect(e.decayAt(2)).toBeCloseTo(2 / 11, 15);
    expect(e.decayAt(11)).toBeCloseTo(11 / 20, 15);
    expect(e.decayAt(100_000)).toBe(0.999);
    const p = new EMA(model, { warmup: 'power', decay: 0.9999 });
    expect(p.decayAt(1)).toBe(0);
    expect(p.decayAt(9)).toBeCloseTo(1 - 9 ** (-2 / 3), 15);
    const n = new EMA(model, { warmup: 'none', decay: 0.99 });
    expect(n.decayAt(1)).toBe(0.99);
    const late = new EMA(model, { updateAfterStep: 5, minDecay: 0.3 });
    expect(late.decayAt(6)).toBe(0);
    expect(late.decayAt(7)).toBe(0.3); // (1 + 1)/(10 + 1) = 0.18 raised to minDecay
    [e, p, n, late].forEach((x) => x.dispose());
  });

  it('five updates equal shadow ← shadow − (1 − d)·(shadow − param) in float64; the frozen parameter is copied', async () => {
    const model = make(2);
    const e = new EMA(model);
    const shadow = await snapshot(model);
    for (let k = 1; k <= 5; k++) {
      perturb(model, k);
      e.update();
      const d = k === 1 ? 0 : (1 + (k - 1)) / (10 + (k - 1));
      expect(e.lastDecay).toBeCloseTo(d, 15);
      const now = await snapshot(model);
      for (const name of Object.keys(shadow)) shadow[name] = shadow[name].map((s, i) => s - (1 - d) * (s - now[name][i]));
    }
    const w = e.weights();
    for (const name of Object.keys(shadow)) await expectClose(w[name], { shape: w[name].shape, data: shadow[name] }, TOL, name);
    disposeAll(w);
    e.dispose();
  });

  it('apply swaps the EMA weights in, restore puts the trained weights back exactly; copyTo keeps the EMA weights', async () => {
    const model = make(3);
    const e = new EMA(model, { warmup: 'none', decay: 0.5 });
    perturb(model, 1);
    e.update();
    perturb(model, 2);
    const trained = await snapshot(model);
    const ema = e.weights();
    const count = [...model.namedParameters()].length;
    await expectTensorDelta(() => e.apply(), count, 'apply (keeps a copy of the trained weights)');
    for (const [name, v] of model.namedParameters()) await expectExact(v, ema[name], `applied ${name}`);
    await expectError(() => e.apply(), ValueError, /already applied/);
    await expectError(() => e.update(), ValueError, /call restore\(\) first/);
    await expectTensorDelta(() => e.restore(), -count, 'restore');
    const back = await snapshot(model);
    for (const name of Object.keys(trained)) await expectExact(back[name], trained[name], `restored ${name}`);
    await expectError(() => e.restore(), ValueError, /nothing to restore/);
    e.copyTo();
    for (const [name, v] of model.namedParameters()) await expectExact(v, ema[name], `copied ${name}`);
    disposeAll(ema);
    e.dispose();
  });

  it('exportState → importState → continue equals continuing without the round trip, bit for bit; no tensor left behind', async () => {
    const a = make(4);
    const b = make(4);
    const ea = new EMA(a);
    const eb = new EMA(b);
    for (let k = 1; k <= 3; k++) {
      perturb(a, k);
      perturb(b, k);
      ea.update();
    }
    const state = await expectOnlyResult(() => ea.exportState(), 'exportState');
    await expectTensorDelta(() => eb.importState(state), 0, 'importState replaces the shadow');
    disposeAll(state);
    expect(eb.updates).toBe(3);
    for (let k = 4; k <= 6; k++) {
      perturb(a, k);
      perturb(b, k);
      await expectTensorDelta(() => ea.update(), 0, 'update');
      eb.update();
    }
    const wa = ea.weights();
    const wb = eb.weights();
    for (const name of Object.keys(wa)) await expectExact(wb[name], wa[name], name);
    disposeAll([wa, wb]);
    ea.dispose();
    eb.dispose();
  });

  it('typed errors for bad options and bad state', async () => {
    const model = make(5);
    await expectError(() => new EMA(model, { decay: 1.5 }), ConfigError, /EMA: decay must be in \[0, 1\], got 1.5/);
    await expectError(() => new EMA(model, { decay: 0.9, minDecay: 0.95 }), ConfigError, /minDecay \(0.95\) must not exceed decay \(0.9\)/);
    await expectError(() => new EMA(model, { updateEvery: 0 }), ConfigError, /updateEvery must be a positive integer, got 0/);
    await expectError(() => new EMA(model, { warmup: 'linear' as never }), ConfigError, /warmup must be 'official', 'power' or 'none', got linear/);
    await expectError(() => new EMA({} as never), ValueError, /expected a Module/);
    const e = new EMA(model);
    const bad = { updates: tf.scalar(1, 'int32'), 'shadow.proj.weight': tf.zeros([4, 3]), 'shadow.extra': tf.zeros([1]) };
    const err = await expectError(() => e.importState(bad), StateDictError, /the EMA state does not match/);
    expect(err.problems.unexpected).toEqual(['shadow.extra']);
    expect(err.problems.mismatched).toEqual([{ name: 'shadow.proj.weight', expected: [3, 4], got: [4, 3] }]);
    expect(err.problems.missing).toContain('shadow.ln.bias');
    disposeAll(bad);
    e.dispose();
  });
});
