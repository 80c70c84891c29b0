// AdamW on the active backend against torch's formulas: a hand-computed first step, several steps against
// a float64 reference, and the exported state that continues bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import { disposeAll, expectClose, expectExact, expectOnlyResult, expectTensorDelta, normals } from '@vtok/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { AdamW, officialNoWeightDecay } from '../src/adamw';
import { AdamW64, TinyModel, snapshot } from './helpers';

/** Relative to max |param|: float32 updates against float64; measured ~1e-7 on cpu/wasm. */
const TOL = 1e-5;

/** Seeded gradients for every trainable parameter of `model` at `step`, keyed by state-dict name. */
function seededGrads(model: TinyModel, step: number, skip: string[] = []): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  let k = 0;
  for (const [name, v] of model.namedParameters()) {
    k += 1;
    if (!v.trainable || skip.includes(name)) continue;
    out[name] = tf.tensor(Float32Array.from(normals(v.size, 1000 * step + k, 0.7)), v.shape);
  }
  return out;
}

const models: TinyModel[] = [];
const make = (seed = 1) => {
  const m = new TinyModel(seed);
  models.push(m);
  return m;
};
afterEach(() => models.splice(0).forEach((m) => m.dispose()));

describe('AdamW', () => {
  it('first step by hand: p·(1 − lr·λ) − lr·g/(|g| + ε) (m̂ = g, v̂ = g² after bias correction)', async () => {
    const model = make();
    const opt = new AdamW(model, { lr: 0.05, weightDecay: 0.1, eps: 1e-3 });
    const before = await snapshot(model);
    const grads = seededGrads(model, 1);
    opt.step(grads);
    const after = await snapshot(model);
    for (const [name, g] of Object.entries(grads)) {
      const gv = await g.data();
      const ref = before[name].map((p, i) => p * (1 - 0.05 * 0.1) - (0.05 * gv[i]) / (Math.abs(gv[i]) + 1e-3));
      await expectClose(after[name], ref, TOL, name);
    }
    // The frozen parameter is not optimised.
    expect(opt.parameterNames).not.toContain('frozen');
    expect(after.frozen).toEqual(before.frozen);
    disposeAll(grads);
    opt.dispose();
  });

  for (const betas of [[0.9, 0.99], [0.5, 0.9]] as [number, number][]) {
    it(`six steps with a changing lr against torch's AdamW in float64 (β = ${betas}; the weight-decay exemptions of the official rule)`, async () => {
      const model = make(2);
      const opt = new AdamW(model, { betas, eps: 1e-8, weightDecay: 0.1, noWeightDecay: officialNoWeightDecay });
      const start = await snapshot(model);
      const refs = Object.fromEntries(
        opt.parameterNames.map((name) => [name, new AdamW64(Float64Array.from(start[name]), { betas, eps: 1e-8, weightDecay: opt.weightDecayOf(name) })]),
      );
      expect(opt.weightDecayOf('proj.weight')).toBe(0.1);
      for (const exempt of ['proj.bias', 'ln.weight', 'ln.bias', 'latent_tokens']) expect(opt.weightDecayOf(exempt)).toBe(0);
      const lrs = [0.01, 0.03, 0.05, 0.02, 0.04, 0.001];
      for (let s = 0; s < lrs.length; s++) {
        const grads = seededGrads(model, s + 1);
        opt.step(grads, { lr: lrs[s] });
        for (const [name, g] of Object.entries(grads)) refs[name].step(await g.data(), lrs[s]);
        disposeAll(grads);
      }
      const got = await snapshot(model);
      for (const name of opt.parameterNames) await expectClose(got[name], refs[name].p, TOL, name);
      // The parameters moved far beyond the tolerance, so the comparison above means something.
      const moved = Math.max(...got['proj.weight'].map((v, i) => Math.abs(v - start['proj.weight'][i])));
      expect(moved).toBeGreaterThan(0.05);
      expect(opt.stepCount).toBe(6);
      opt.dispose();
    });
  }

  it('takes the gradients of tf.variableGrads (keyed by variable name) and a Map by variable', async () => {
    const a = make(3);
    const b = make(3);
    const oa = new AdamW(a, { lr: 0.01 });
    const ob = new AdamW(b, { lr: 0.01 });
    const x = tf.tensor1d([0.3, -1.2, 0.8, 0.1]);
    for (let s = 0; s < 3; s++) {
      const ga = tf.variableGrads(() => a.loss(x), a.trainableVariables());
      oa.step(ga.grads);
      const gb = tf.variableGrads(() => b.loss(x), b.trainableVariables());
      const byVariable = new Map([...b.namedParameters()].filter(([, v]) => v.trainable).map(([, v]) => [v, gb.grads[v.name]] as const));
      ob.step(byVariable);
      disposeAll([ga.value, ga.grads, gb.value, gb.grads]);
    }
    const sa = await snapshot(a);
    const sb = await snapshot(b);
    for (const name of oa.parameterNames) await expectExact(sa[name], sb[name], name);
    x.dispose();
    oa.dispose();
    ob.dispose();
  });

  it('a parameter without a gradient stays and its step count does not advance (torch skips grad None)', async () => {
    const model = make(4);
    const opt = new AdamW(model, { lr: 0.01, weightDecay: 0.5 });
    const before = await snapshot(model);
    const grads = seededGrads(model, 1, ['ln.bias']);
    opt.step(grads);
    disposeAll(grads);
    const grads2 = seededGrads(model, 2);
    opt.step(grads2);
    disposeAll(grads2);
    const state = opt.exportState();
    expect((await state['state.ln.bias.step'].data())[0]).toBe(1);
    expect((await state['state.proj.weight.step'].data())[0]).toBe(2);
    expect((await state.step.data())[0]).toBe(2);
    disposeAll(state);
    // Only one update of ln.bias: the first AdamW step of its gradient from step 2.
    const after = await snapshot(model);
    expect(after['ln.bias']).not.toEqual(before['ln.bias']);
    opt.dispose();
  });

  it('exportState → importState into a new optimiser → continue equals continuing without the round trip, bit for bit', async () => {
    const a = make(5);
    const b = make(5);
    const oa = new AdamW(a, { lr: 0.02, betas: [0.9, 0.96], weightDecay: 0.03, noWeightDecay: officialNoWeightDecay });
    for (let s = 1; s <= 3; s++) {
      const g = seededGrads(a, s);
      oa.step(g);
      disposeAll(g);
    }
    // b gets a's weights and optimiser state, through exported copies.
    const weights = Object.fromEntries(Object.entries(a.stateDict()).map(([k, v]) => [k, tf.clone(v)]));
    b.loadStateDict(weights);
    disposeAll(weights);
    const state = await expectOnlyResult(() => oa.exportState(), 'exportState');
    expect(Object.keys(state).sort()).toEqual(
      ['step', ...oa.parameterNames.flatMap((n) => [`state.${n}.step`, `state.${n}.exp_avg`, `state.${n}.exp_avg_sq`])].sort(),
    );
    const ob = new AdamW(b, { lr: 0.02, betas: [0.9, 0.96], weightDecay: 0.03, noWeightDecay: officialNoWeightDecay });
    await expectTensorDelta(() => ob.importState(state), 2 * oa.parameterNames.length, 'importState (copies of the moments)');
    disposeAll(state);
    expect(ob.stepCount).toBe(3);
    for (let s = 4; s <= 6; s++) {
      const g = seededGrads(a, s);
      oa.step(g);
      ob.step(g);
      disposeAll(g);
    }
    const sa = await snapshot(a);
    const sb = await snapshot(b);
    for (const name of oa.parameterNames) await expectExact(sb[name], sa[name], name);
    const ea = oa.exportState();
    const eb = ob.exportState();
    for (const k of Object.keys(ea)) await expectExact(eb[k], ea[k], k);
    disposeAll([ea, eb]);
    oa.dispose();
    ob.dispose();
  });

  it('leaves no tensor behind: steps after the first keep the count; importing over a state replaces it; dispose frees it', async () => {
    const model = make(6);
    const before = tf.memory().numTensors;
    const opt = new AdamW(model, { lr: 0.01 });
    const g1 = seededGrads(model, 1);
    const g2 = seededGrads(model, 2);
    const moments = 2 * opt.parameterNames.length;
    await expectTensorDelta(() => opt.step(g1), moments, 'first step (creates m and v)');
    await expectTensorDelta(() => opt.step(g2), 0, 'second step');
    const state = opt.exportState();
    await expectTensorDelta(() => opt.importState(state), 0, 'importState over an existing state');
    disposeAll([g1, g2, state]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
