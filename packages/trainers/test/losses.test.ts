// L1/L2, the quantizer loss over the real VQ and LFQ, the GAN objectives and LeCam, against float64
// references; typed errors and leaks.
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';
import { FiniteScalarQuantizer, LFQ_PRESETS, LookupFreeQuantizer, VectorQuantizer } from '@vtok/quantizers';
import { disposeAll, expectClose, expectError, expectNoLeak, normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import {
  LeCam,
  OFFICIAL_QUANTIZER_LOSS,
  ganActive,
  hingeDiscriminatorLoss,
  hingeGeneratorLoss,
  l1Loss,
  l2Loss,
  nonSaturatingGeneratorLoss,
  quantizerLoss,
} from '../src';

const TOL = 1e-6;
const value = async (t: tf.Tensor) => (await t.data())[0];
const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;

describe('l1Loss / l2Loss', () => {
  it('are the means of |x − y| and (x − y)² (F.l1_loss, F.mse_loss), and free everything', async () => {
    const a = normals(2 * 5 * 4 * 3, 1);
    const b = normals(2 * 5 * 4 * 3, 2);
    const x = tf.tensor4d(Float32Array.from(a), [2, 5, 4, 3]);
    const y = tf.tensor4d(Float32Array.from(b), [2, 5, 4, 3]);
    await expectClose([await value(l1Loss(x, y))], [mean(a.map((v, i) => Math.abs(v - b[i])))], TOL, 'l1');
    await expectClose([await value(l2Loss(x, y))], [mean(a.map((v, i) => (v - b[i]) ** 2))], TOL, 'l2');
    expect(await value(l1Loss(x, x))).toBe(0);
    await expectNoLeak(() => l1Loss(x, y), 'l1Loss');
    await expectNoLeak(() => l2Loss(x, y), 'l2Loss');
    disposeAll([x, y]);
  });

  it('refuse mismatched shapes, other dtypes, empty and disposed tensors with typed errors', async () => {
    const x = tf.zeros([2, 4, 4, 3]);
    const y = tf.zeros([2, 4, 4, 1]);
    const ints = tf.zeros([2, 4, 4, 3], 'int32');
    const empty = tf.zeros([0, 3]);
    const gone = tf.zeros([2, 4, 4, 3]);
    gone.dispose();
    await expectError(() => l1Loss(x, y), ShapeError, 'l1Loss: x and y must have the same shape, got [2, 4, 4, 3] and [2, 4, 4, 1]');
    await expectError(() => l2Loss(x, ints), DTypeError, /l2Loss: y must be float32, got int32/);
    await expectError(() => l2Loss(empty, empty), ShapeError, /must hold at least one value, got shape \[0, 3\]/);
    await expectError(() => l1Loss(x, gone), ValueError, /l1Loss: y is disposed/);
    await expectError(() => l1Loss([1] as never, x), ValueError, /l1Loss: x must be a tf.Tensor, got an array/);
    disposeAll([x, y, ints, empty]);
  });
});

describe('quantizerLoss', () => {
  it('VQ: quantizer_weight × the VQ`s total (β·commitment + codebook), as 1d-tokenizer; stage 2 weighs it 0', async () => {
    const vq = new VectorQuantizer({ dim: 4, codebookSize: 8, useL2Norm: true, commitmentCost: 0.25, seed: 3 });
    const z = tf.tensor3d(Float32Array.from(normals(2 * 5 * 4, 4)), [2, 5, 4]);
    const result = vq.quantize(z, { training: true });
    const [total, commitment, codebook] = await Promise.all(['total', 'commitment', 'codebook'].map((k) => value(result.losses[k])));
    expect(total).toBeGreaterThan(0);
    await expectClose([await value(quantizerLoss(result))], [total], TOL, 'vq default');
    await expectClose([await value(quantizerLoss(result, OFFICIAL_QUANTIZER_LOSS.titokStage1))], [commitment + codebook], TOL, 'vq stage 1');
    expect(await value(quantizerLoss(result, OFFICIAL_QUANTIZER_LOSS.titokStage2))).toBe(0);
    await expectClose([await value(quantizerLoss(result, { weight: 0.5 }))], [0.5 * total], TOL, 'vq weight 0.5');
    await expectNoLeak(() => quantizerLoss(result), 'quantizerLoss');
    disposeAll([result, z]);
    vq.dispose();
  });

  it('LFQ: its aux, and Open-MAGVIT2`s 0.1·(H_sample − H_codebook) + 0.25·commit from the named terms, whatever the LFQ`s own weights', async () => {
    const z = tf.tensor2d(Float32Array.from(normals(16 * 6, 5, 0.05)), [16, 6]);
    const official = new LookupFreeQuantizer({ dim: 6, ...LFQ_PRESETS.openMagvit2 });
    const other = new LookupFreeQuantizer({ dim: 6, ...LFQ_PRESETS.openMagvit2, entropyLossWeight: 1, commitmentLossWeight: 1 });
    const a = official.quantize(z, { training: true });
    const b = other.quantize(z, { training: true });
    const [hs, hc, commit, aux] = await Promise.all(['perSampleEntropy', 'codebookEntropy', 'commitment', 'aux'].map((k) => value(a.losses[k])));
    const expected = 0.1 * (hs - hc) + 0.25 * commit;
    await expectClose([aux], [expected], 1e-5, 'the LFQ`s aux is the recipe');
    await expectClose([await value(quantizerLoss(a))], [aux], TOL, 'aux');
    await expectClose([await value(quantizerLoss(b, OFFICIAL_QUANTIZER_LOSS.openMagvit2))], [expected], 1e-5, 'recipe from terms');
    expect(await value(quantizerLoss(b))).not.toBeCloseTo(expected, 3);
    disposeAll([a, b, z]);
  });

  it('quantizers without losses (FSQ, or LFQ outside training) give 0; unknown names and bad weights are typed errors', async () => {
    const fsq = new FiniteScalarQuantizer({ levels: [3, 3] });
    const lfq = new LookupFreeQuantizer({ dim: 4 });
    const z = tf.tensor2d(Float32Array.from(normals(8, 6)), [4, 2]);
    const z4 = tf.tensor2d(Float32Array.from(normals(16, 7)), [4, 4]);
    const f = fsq.quantize(z);
    const e = lfq.quantize(z4);
    expect(await value(quantizerLoss(f))).toBe(0);
    expect(await value(quantizerLoss(e))).toBe(0);
    await expectError(() => quantizerLoss(e, OFFICIAL_QUANTIZER_LOSS.openMagvit2), ValueError, /returned no "perSampleEntropy" loss; it returned no losses \(LFQ returns its losses only with \{ training: true \}\)/);
    const odd = { losses: { mine: tf.scalar(2), other: tf.scalar(3) } };
    await expectError(() => quantizerLoss(odd), ValueError, /returned "mine", "other"; expected "total" \(VQ\) or "aux" \(LFQ\), or name the terms/);
    expect(await value(quantizerLoss(odd, { terms: { mine: 2, other: -1 } }))).toBe(1);
    await expectError(() => quantizerLoss(odd, { terms: { mine: Number.NaN } }), ValueError, /the weight of "mine" must be a finite number, got NaN/);
    await expectError(() => quantizerLoss(odd, { weight: Infinity, terms: { mine: 1 } }), ValueError, /weights.weight must be a finite number/);
    const ints = { losses: { total: tf.scalar(1, 'int32') as tf.Scalar } };
    await expectError(() => quantizerLoss(ints), DTypeError, /the "total" loss must be float32, got int32/);
    await expectError(() => quantizerLoss({} as never), ValueError, /expected a quantizer result with named losses, got no losses/);
    disposeAll([f, e, z, z4, odd, ints]);
  });
});

describe('GAN objectives', () => {
  const realData = normals(2 * 3 * 3, 11, 1.5);
  const fakeData = normals(2 * 3 * 3, 12, 1.5);
  const logits = (d: Float64Array) => tf.tensor4d(Float32Array.from(d), [2, 3, 3, 1]);

  it('hinge: 0.5·(mean relu(1 − D(x)) + mean relu(1 + D(x̂))) and −mean D(x̂), as float64', async () => {
    const [r, f] = [logits(realData), logits(fakeData)];
    const ref = 0.5 * (mean(realData.map((v) => Math.max(0, 1 - v))) + mean(fakeData.map((v) => Math.max(0, 1 + v))));
    await expectClose([await value(hingeDiscriminatorLoss(r, f))], [ref], TOL, 'hinge D');
    await expectClose([await value(hingeGeneratorLoss(f))], [-mean(fakeData)], TOL, 'hinge G');
    await expectNoLeak(() => hingeDiscriminatorLoss(r, f), 'hingeDiscriminatorLoss');
    await expectNoLeak(() => hingeGeneratorLoss(f), 'hingeGeneratorLoss');
    disposeAll([r, f]);
  });

  it('non-saturating: softplus(−m) of the per-sample mean logits m, averaged; finite for huge logits', async () => {
    const f = logits(fakeData);
    const m = [0, 1].map((b) => mean(fakeData.slice(b * 9, b * 9 + 9)));
    await expectClose([await value(nonSaturatingGeneratorLoss(f))], [mean(m.map((v) => Math.log1p(Math.exp(-v))))], TOL, 'non-saturating');
    const huge = tf.tensor2d([[-200, -200], [200, 200]]);
    await expectClose([await value(nonSaturatingGeneratorLoss(huge))], [100], TOL, 'softplus(200)/2 and softplus(−200)/2');
    await expectNoLeak(() => nonSaturatingGeneratorLoss(f), 'nonSaturatingGeneratorLoss');
    disposeAll([f, huge]);
  });

  it('typed errors for logits that are not float32 [B, ...] with values', async () => {
    const ints = tf.zeros([2, 3], 'int32');
    const empty = tf.zeros([0, 4]);
    const scalar = tf.scalar(1);
    const ok = tf.zeros([2, 3]);
    await expectError(() => hingeDiscriminatorLoss(ok, ints), DTypeError, /hingeDiscriminatorLoss: fakeLogits must be float32, got int32/);
    await expectError(() => hingeGeneratorLoss(empty), ShapeError, /hingeGeneratorLoss: fakeLogits must be \[B, \.\.\.\] with at least one value, got shape \[0, 4\]/);
    await expectError(() => nonSaturatingGeneratorLoss(scalar), ShapeError, /got shape \[\]/);
    disposeAll([ints, empty, scalar, ok]);
  });

  it('ganActive: from discriminatorStart on (step >= start); bad steps are ValueErrors', () => {
    expect([0, 19_999, 20_000, 20_001].map((s) => ganActive(s, 20_000))).toEqual([false, false, true, true]);
    expect(ganActive(0, 0)).toBe(true);
    expect(() => ganActive(-1, 0)).toThrow(ValueError);
    expect(() => ganActive(1.5, 0)).toThrow(/step must be a non-negative integer, got 1.5/);
  });
});

describe('LeCam', () => {
  /** The official updates in float64, over a sequence of (real, fake) logits. */
  function reference(form: '1d-tokenizer' | 'open-magvit2', steps: [Float64Array, Float64Array][], decay = 0.999) {
    let er = 0;
    let ef = 0;
    return steps.map(([r, f]) => {
      const [mr, mf] = [mean(r), mean(f)];
      let loss: number;
      if (form === '1d-tokenizer') {
        loss = Math.max(0, mr - ef) ** 2 + Math.max(0, er - mf) ** 2;
        [er, ef] = [er * decay + mr * (1 - decay), ef * decay + mf * (1 - decay)];
      } else {
        [er, ef] = [er * decay + mr * (1 - decay), ef * decay + mf * (1 - decay)];
        loss = mean(r.map((v) => Math.max(0, v - ef) ** 2)) + mean(f.map((v) => Math.max(0, er - v) ** 2));
      }
      return { loss, er, ef };
    });
  }

  const steps: [Float64Array, Float64Array][] = Array.from({ length: 6 }, (_, i) => [
    normals(8, 100 + i, 2).map((v) => v + 0.5),
    normals(8, 200 + i, 2).map((v) => v - 0.5),
  ]);

  for (const form of ['1d-tokenizer', 'open-magvit2'] as const) {
    it(`${form}: losses and EMAs over six steps equal the official updates (decay 0.1 to make them move)`, async () => {
      const lecam = new LeCam({ form, decay: 0.1 });
      const ref = reference(form, steps, 0.1);
      for (const [i, [r, f]] of steps.entries()) {
        const [real, fake] = [tf.tensor2d(Float32Array.from(r), [2, 4]), tf.tensor2d(Float32Array.from(f), [2, 4])];
        const loss = lecam.step(real, fake);
        expect(ref[i].loss).toBeGreaterThan(0);
        await expectClose([await value(loss)], [ref[i].loss], 1e-5, `loss ${i}`);
        const state = await lecam.exportState();
        await expectClose([state.realEma, state.fakeEma], [ref[i].er, ref[i].ef], 1e-5, `EMAs ${i}`);
        disposeAll([real, fake, loss]);
      }
      lecam.dispose();
    });
  }

  it('exportState → importState in a new LeCam continues bit for bit; leaves nothing; bad state and options are typed errors', async () => {
    const a = new LeCam();
    expect([a.decay, a.form]).toEqual([0.999, '1d-tokenizer']);
    const run = async (lecam: LeCam, from: number, to: number) => {
      const out: number[] = [];
      for (const [r, f] of steps.slice(from, to)) {
        const [real, fake] = [tf.tensor1d(Float32Array.from(r)), tf.tensor1d(Float32Array.from(f))];
        const loss = lecam.step(real, fake);
        out.push(await value(loss));
        disposeAll([real, fake, loss]);
      }
      return out;
    };
    await run(a, 0, 3);
    const saved = JSON.parse(JSON.stringify(await a.exportState()));
    const b = new LeCam();
    b.importState(saved);
    expect(await b.exportState()).toEqual(saved);
    expect(await run(b, 3, 6)).toEqual(await run(a, 3, 6));
    expect(await b.exportState()).toEqual(await a.exportState());
    const [real, fake] = [tf.ones([2, 2]), tf.zeros([2, 2])];
    await expectNoLeak(() => b.step(real, fake), 'LeCam.step');
    await expectError(() => b.importState({ realEma: Number.NaN, fakeEma: 0 }), ValueError, /LeCam.importState: realEma must be a finite number, got NaN/);
    await expectError(() => b.importState(null as never), ValueError, /expected \{ realEma, fakeEma \}/);
    const empty = tf.zeros([0]);
    await expectError(() => b.step(real, empty), ShapeError, /LeCam.step: fakeLogits must be \[B, \.\.\.\]/);
    expect(() => new LeCam({ decay: 1.5 })).toThrow(/decay must be in \[0, 1\], got 1.5/);
    expect(() => new LeCam({ form: 'magvit' as never })).toThrow(ValueError);
    disposeAll([real, fake, empty]);
    a.dispose();
    b.dispose();
  });

  it('the gradient reaches the logits only through the regulariser, not the EMAs', async () => {
    const lecam = new LeCam({ form: 'open-magvit2', decay: 0.5 });
    const real = tf.variable(tf.tensor1d([1, 2]));
    const fake = tf.variable(tf.tensor1d([-1, -3]));
    const { value: v, grads } = tf.variableGrads(() => lecam.step(real, fake), [real, fake]);
    // EMAs after the update: real 0.75, fake −1; loss = mean relu(r + 1)² + mean relu(0.75 − f)².
    expect(await value(v)).toBeCloseTo((4 + 9) / 2 + (1.75 ** 2 + 3.75 ** 2) / 2, 5);
    expect(Array.from(await grads[real.name].data())).toEqual([2, 3].map((x) => Math.fround(x)));
    expect(Array.from(await grads[fake.name].data())).toEqual([-1.75, -3.75]);
    disposeAll([v, grads, real, fake]);
    lecam.dispose();
  });
});
