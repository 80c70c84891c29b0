// LFQ losses and gradients against the literal float64 references of test/lfq-reference.ts (the full
// [N, K] softmax, no factorisation), on the active backend:
// - the factorised per-sample entropy (per bit, or by halves for lucidrains' clamp) equals the full formula;
// - the sub-group codebook entropy equals its literal definition and bounds the full one from above;
// - the straight-through output passes the gradient unchanged;
// - every loss gradient matches float64 central differences.
import * as tf from '@tensorflow/tfjs-core';
import { centralDifferences, normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { type LfqConfig, LookupFreeQuantizer } from '../src/lfq';
import { type Formula, type LfqRefOptions, lfqLossesRef, rows } from './lfq-reference';

/**
 * Forward tolerance, relative to max(1, |ref|): float32 evaluation, measured ≤ 2e-7 on cpu (run with
 * VTOK_REPORT_ERRORS=1); 1e-5 leaves room for other backends' exp/log while an eps placed wrongly
 * (≈ K·1e-5) or a missing term fails.
 */
const FORWARD_TOL = 1e-5;
/**
 * Gradient tolerance, relative to the largest |gradient| component: float32 autodiff through exp/log of
 * logits scaled by 4·s·invT (≈ 400) against float64 central differences (h = 1e-6); measured ≤ 1e-6 on cpu.
 */
const GRAD_TOL = 1e-4;

const LOSSES = ['aux', 'perSampleEntropy', 'codebookEntropy', 'commitment'] as const;

interface Setting {
  label: string;
  config: LfqConfig & { dim: number };
  shape: number[];
  zScale: number;
  seed: number;
}

const settings: Setting[] = [
  {
    label: 'open-magvit2, d 6, full codebook entropy',
    config: { dim: 6, entropyFormula: 'open-magvit2', codebookEntropyGroups: [6], commitmentLossWeight: 0.25 },
    shape: [2, 5, 6],
    zScale: 0.01,
    seed: 1,
  },
  {
    label: 'lucidrains, d 6, full codebook entropy, commitment on',
    config: { dim: 6, entropyFormula: 'lucidrains', bitOrder: 'msb', codebookEntropyGroups: [6], commitmentLossWeight: 0.5 },
    shape: [3, 4, 6],
    zScale: 0.01,
    seed: 2,
  },
  {
    label: 'open-magvit2, d 7, sub-groups [4, 3], scale 0.5, invT 30, gamma 2.5',
    config: { dim: 7, codebookEntropyGroups: [4, 3], codebookScale: 0.5, invTemperature: 30, diversityGamma: 2.5, sampleMinimizationWeight: 0.7 },
    shape: [11, 7],
    zScale: 0.05,
    seed: 3,
  },
  {
    label: 'lucidrains, d 7 (odd halves), sub-groups [2, 5], large logits',
    config: { dim: 7, entropyFormula: 'lucidrains', codebookEntropyGroups: [2, 5], commitmentLossWeight: 0.1, entropyLossWeight: 0.3 },
    shape: [2, 3, 2, 7],
    zScale: 0.3,
    seed: 4,
  },
  {
    label: 'lucidrains, d 1 (one code bit, the other half empty)',
    config: { dim: 1, entropyFormula: 'lucidrains', commitmentLossWeight: 0.25 },
    shape: [9, 1],
    zScale: 0.005,
    seed: 5,
  },
  {
    label: 'open-magvit2, d 2',
    config: { dim: 2, codebookScale: 2 },
    shape: [4, 2, 2],
    zScale: 0.004,
    seed: 6,
  },
];

function refOptions(q: LookupFreeQuantizer): LfqRefOptions {
  const c = q.config;
  return {
    invTemperature: c.invTemperature,
    codebookScale: c.codebookScale,
    formula: c.entropyFormula as Formula,
    groups: [...c.codebookEntropyGroups],
    entropyLossWeight: c.entropyLossWeight,
    commitmentLossWeight: c.commitmentLossWeight,
    diversityGamma: c.diversityGamma,
    sampleMinimizationWeight: c.sampleMinimizationWeight,
  };
}

describe('LFQ losses = literal full-softmax float64 reference', () => {
  for (const s of settings) {
    it(`${s.label}: every loss`, async () => {
      const q = new LookupFreeQuantizer(s.config);
      const values = normals(s.shape.reduce((a, b) => a * b, 1), s.seed, s.zScale);
      const ref = lfqLossesRef(rows(values, s.config.dim), refOptions(q));
      const z = tf.tensor(Float32Array.from(values), s.shape);
      const r = q.quantize(z, { training: true });
      for (const name of LOSSES) {
        const got = (await r.losses[name].data())[0];
        const err = Math.abs(got - ref[name]) / Math.max(1, Math.abs(ref[name]));
        if (process.env.VTOK_REPORT_ERRORS) console.log(`[err] ${err.toExponential(2)}  ${name} ${s.label}`);
        expect(err, `${name}: got ${got}, reference ${ref[name]}`).toBeLessThanOrEqual(FORWARD_TOL);
      }
      tf.dispose([z, r.quantized, r.indices, ...Object.values(r.losses)]);
    });
  }

  it('K = 1024, both formulas: per-sample entropy (factorised) = full softmax formula on soft and hard inputs', async () => {
    for (const formula of ['open-magvit2', 'lucidrains'] as const) {
      for (const [zScale, seed] of [[0.01, 5], [0.004, 6], [1, 7]] as const) {
        const q = new LookupFreeQuantizer({ dim: 10, entropyFormula: formula });
        const values = normals(20 * 10, seed, zScale);
        const ref = lfqLossesRef(rows(values, 10), refOptions(q));
        const z = tf.tensor2d(Float32Array.from(values), [20, 10]);
        const r = q.quantize(z, { training: true });
        const got = (await r.losses.perSampleEntropy.data())[0];
        expect(Math.abs(got - ref.perSampleEntropy) / Math.max(1, ref.perSampleEntropy), `${formula} z·${zScale}: ${got} vs ${ref.perSampleEntropy}`).toBeLessThanOrEqual(FORWARD_TOL);
        tf.dispose([z, r.quantized, r.indices, ...Object.values(r.losses)]);
      }
    }
  });

  it('the sub-group codebook entropy is an upper bound of the full one, equal for independent groups', async () => {
    const d = 8;
    const values = normals(40 * d, 8, 0.01);
    const full = lfqLossesRef(rows(values, d), { ...refOptions(new LookupFreeQuantizer({ dim: d })), groups: [d] }).codebookEntropy;
    const grouped = new LookupFreeQuantizer({ dim: d, codebookEntropyGroups: [4, 4] });
    const z = tf.tensor2d(Float32Array.from(values), [40, d]);
    const r = grouped.quantize(z, { training: true });
    const estimate = (await r.losses.codebookEntropy.data())[0];
    expect(estimate).toBeGreaterThanOrEqual(full - 1e-5);
    expect(estimate).toBeLessThanOrEqual(d * Math.LN2 + 1e-5);
    tf.dispose([z, r.quantized, r.indices, ...Object.values(r.losses)]);

    // Tokens whose halves vary independently (every pair of 16 × 16 sign patterns, confidently): the
    // batch distribution is uniform over 256 codes and a product of the groups' — the estimate is the
    // joint entropy ln 256, up to the eps inside the log (-Σ p̄·log(p̄ + 1e-5) ≥ H - 16·1e-5 per group).
    const hard = [];
    for (let u = 0; u < 16; u++) for (let v = 0; v < 16; v++) for (let k = 0; k < d; k++) hard.push(((k < 4 ? u >> k : v >> (k - 4)) & 1 ? 1 : -1) * 0.3);
    const zh = tf.tensor2d(hard, [256, d]);
    const rh = grouped.quantize(zh, { training: true });
    const tight = (await rh.losses.codebookEntropy.data())[0];
    expect(Math.abs(tight - Math.log(256)), `${tight} vs ln 256`).toBeLessThanOrEqual(2 * 16 * 1e-5 + FORWARD_TOL * Math.log(256));
    tf.dispose([zh, rh.quantized, rh.indices, ...Object.values(rh.losses)]);
  });
});

describe('LFQ gradients', () => {
  it('straight-through: the gradient of the quantized output reaches z unchanged (eval and training)', async () => {
    const q = new LookupFreeQuantizer({ dim: 5, codebookScale: 0.7 });
    const values = normals(4 * 3 * 5, 9);
    values[0] = 0; // an exact zero: quantised to -s, gradient still passes
    const z = tf.tensor(Float32Array.from(values), [4, 3, 5]);
    const cotangent = tf.tensor(Float32Array.from(normals(60, 10)), [4, 3, 5]);
    for (const training of [false, true]) {
      const g = tf.grad((x: tf.Tensor) => {
        const r = q.quantize(x, { training });
        return tf.sum(tf.mul(r.quantized, cotangent));
      })(z);
      expect(Array.from(await g.data()), `training ${training}`).toEqual(Array.from(await cotangent.data()));
      g.dispose();
    }
    tf.dispose([z, cotangent]);
  });

  for (const s of settings) {
    it(`${s.label}: d(loss)/dz = float64 central differences for every loss`, async () => {
      const q = new LookupFreeQuantizer(s.config);
      const opts = refOptions(q);
      const values = normals(s.shape.reduce((a, b) => a * b, 1), s.seed + 100, s.zScale);
      const z = tf.tensor(Float32Array.from(values), s.shape);
      for (const name of LOSSES) {
        if (name === 'commitment' && opts.commitmentLossWeight === 0) continue;
        const g = tf.grad((x: tf.Tensor) => {
          const r = q.quantize(x, { training: true });
          tf.dispose([r.quantized, r.indices]);
          return r.losses[name];
        })(z);
        const got = await g.data();
        g.dispose();
        const ref = centralDifferences((theta) => lfqLossesRef(rows(theta, s.config.dim), opts)[name], Float64Array.from(values), 1e-6);
        let scale = 0;
        let err = 0;
        for (let i = 0; i < ref.length; i++) {
          scale = Math.max(scale, Math.abs(ref[i]));
          err = Math.max(err, Math.abs(got[i] - ref[i]));
        }
        if (process.env.VTOK_REPORT_ERRORS) console.log(`[err] ${(err / scale).toExponential(2)}  grad ${name} ${s.label}`);
        expect(scale, `${name}: the reference gradient is not trivially zero`).toBeGreaterThan(0);
        expect(err / scale, `${name}: max error ${err} at gradient scale ${scale}`).toBeLessThanOrEqual(GRAD_TOL);
      }
      z.dispose();
    });
  }
});
