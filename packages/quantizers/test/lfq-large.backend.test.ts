// LFQ at MAGVIT-v2's size, K = 2^18, on the active backend: the losses without any [N, K] tensor (peak
// memory far below one such tensor), equal to the literal float64 formulas, and ids <-> codes round trips.
import * as tf from '@tensorflow/tfjs-core';
import { normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { LFQ_PRESETS, LookupFreeQuantizer } from '../src/lfq';
import { lfqLossesRef, rows } from './lfq-reference';

const BITS = 18;
/** Tolerance relative to max(1, |ref|), as in lfq-losses.backend.test.ts. */
const FORWARD_TOL = 1e-5;

describe('LFQ with K = 2^18', () => {
  for (const [name, preset] of Object.entries(LFQ_PRESETS)) {
    it(`${name}: every loss equals the literal full-softmax formula (sub-groups [9, 9] for the codebook entropy)`, async () => {
      const q = new LookupFreeQuantizer({ ...preset, dim: BITS, commitmentLossWeight: 0.25 });
      expect(q.config.codebookEntropyGroups).toEqual([9, 9]);
      const values = normals(6 * BITS, 11, 0.01);
      // Over 2^18 codes per token, in float64, literally.
      const ref = lfqLossesRef(rows(values, BITS), {
        invTemperature: q.config.invTemperature,
        codebookScale: q.config.codebookScale,
        formula: q.config.entropyFormula,
        groups: [...q.config.codebookEntropyGroups],
        entropyLossWeight: q.config.entropyLossWeight,
        commitmentLossWeight: q.config.commitmentLossWeight,
        diversityGamma: q.config.diversityGamma,
        sampleMinimizationWeight: q.config.sampleMinimizationWeight,
      });
      const z = tf.tensor(Float32Array.from(values), [2, 3, BITS]);
      const r = q.quantize(z, { training: true });
      for (const loss of ['aux', 'perSampleEntropy', 'codebookEntropy', 'commitment'] as const) {
        const got = (await r.losses[loss].data())[0];
        expect(Math.abs(got - ref[loss]) / Math.max(1, Math.abs(ref[loss])), `${loss}: got ${got}, reference ${ref[loss]}`).toBeLessThanOrEqual(FORWARD_TOL);
      }
      tf.dispose([z, r.quantized, r.indices, ...Object.values(r.losses)]);
    });

    // MAGVIT-v2's 8×16×16 positions; 2×16×16 on webgpu, whose SwiftShader here runs a sort pass per
    // second (the size is covered there by the bench on a real GPU, and memory is backend-independent).
    const batch = process.env.VTOK_TEST_BACKEND === 'webgpu' ? 2 : 8;
    it(`${name}: a training call on ${batch}×16×16 positions peaks far below one [N, K] float32 tensor`, async () => {
      const q = new LookupFreeQuantizer({ ...preset, dim: BITS });
      const z = tf.tensor(Float32Array.from(normals(batch * 16 * 16 * BITS, 12)), [batch, 16, 16, BITS]);
      const before = tf.memory().numTensors;
      const info = await tf.profile(async () => {
        const r = q.quantize(z, { training: true });
        await r.losses.aux.data();
        tf.dispose([r.quantized, r.indices, ...Object.values(r.losses)]);
      });
      expect(tf.memory().numTensors).toBe(before);
      // [N, 2^18] float32 is N MiB (2 GiB at N = 2048); the sub-group and half-split computations use [N, 512].
      const n = batch * 16 * 16;
      if (process.env.VTOK_REPORT_ERRORS) console.log(`[peak] ${name} N ${n}: ${(info.peakBytes / 2 ** 20).toFixed(1)} MiB`);
      // Measured: 22 MiB (Open-MAGVIT2 formula) and 98 MiB (lucidrains) at N = 2048; bound: 1/8 of one [N, K] tensor.
      expect(info.peakBytes, `peak ${(info.peakBytes / 2 ** 20).toFixed(1)} MiB`).toBeLessThan((n / 8) * 2 ** 20);
      z.dispose();
    });
  }

  it('ids and codes round-trip at 2^18 in both bit orders, at the extreme ids too', async () => {
    for (const bitOrder of ['lsb', 'msb'] as const) {
      const q = new LookupFreeQuantizer({ dim: BITS, bitOrder });
      const ids = tf.tensor1d([0, 1, 2 ** 17, 2 ** 18 - 1, 123457, 200001], 'int32');
      const codes = q.lookup(ids);
      const r = q.quantize(codes);
      expect(Array.from(await r.indices.data()), bitOrder).toEqual([0, 1, 2 ** 17, 2 ** 18 - 1, 123457, 200001]);
      // Only channel 0 positive: id 1 (LSB-first, as Open-MAGVIT2) or 2^17 (MSB-first, as lucidrains).
      const firstOnly = (await codes.array()) as number[][];
      const channel0 = bitOrder === 'lsb' ? firstOnly[1] : firstOnly[2];
      expect(channel0[0]).toBe(1);
      expect(channel0.slice(1).every((v) => v === -1)).toBe(true);
      tf.dispose([ids, codes, r.quantized, r.indices]);
    }
  });
});
