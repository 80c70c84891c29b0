// Beyond the official code: EMA codebook updates, dead-code restart and usage statistics, on every backend.
import * as tf from '@tensorflow/tfjs-core';
import { disposeAll, expectClose, prng } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { VectorQuantizer } from '../../src';
import { flatten, nearest, normalize, rowsOf } from './reference';

const K = 8, D = 3, N = 40;

/** Eight well-separated centres and batches of latents around them (assignments have wide margins). */
function clusteredData(seed: number) {
  const rr = prng(seed);
  const centres = rr.normals(K * D, 4);
  const batch = (count: number) => {
    const z = new Float64Array(count * D);
    for (let i = 0; i < count; i++) {
      const c = Math.floor(rr.next() * (K - 2)); // the last two centres are never used
      for (let j = 0; j < D; j++) z[i * D + j] = centres[c * D + j] + 0.3 * rr.normal();
    }
    return z;
  };
  return { centres, batch };
}

function withCodebook(weight: Float64Array, config: Partial<ConstructorParameters<typeof VectorQuantizer>[0]>): VectorQuantizer {
  const vq = new VectorQuantizer({ dim: D, codebookSize: K, seed: 9, ...config });
  const w = tf.tensor(Float32Array.from(weight), [K, D]);
  vq.loadStateDict({ 'embedding.weight': w }, { strict: false });
  w.dispose();
  return vq;
}

async function train(vq: VectorQuantizer, z: Float64Array, training = true): Promise<number[]> {
  const zt = tf.tensor(Float32Array.from(z), [z.length / D, D]);
  const r = vq.quantize(zt, { training });
  const ids = Array.from(await r.indices.data());
  disposeAll(r);
  zt.dispose();
  return ids;
}

describe('EMA codebook updates', () => {
  it('follow the running-average recursion with Laplace smoothing (a float64 reference that stores the running sums)', async () => {
    const decay = 0.9, eps = 1e-3;
    const { centres, batch } = clusteredData(1);
    const vq = withCodebook(centres, { ema: { decay, eps } });
    expect(Object.keys(vq.stateDict()).sort()).toEqual(['cluster_size', 'embedding.weight']);
    expect(vq.embedding.weight.trainable).toBe(false);
    // Reference (lucidrains' EuclideanCodebook): N = 1, m = e at the start; m, N averaged; e = m / Ñ.
    let codes = rowsOf(centres, D);
    let size = new Float64Array(K).fill(1);
    let sums = codes.map((r) => Float64Array.from(r));
    for (let step = 0; step < 4; step++) {
      const z = batch(N);
      const ids = await train(vq, z);
      const ref = nearest(rowsOf(z, D), codes).indices;
      expect(ids).toEqual(ref);
      const count = new Float64Array(K);
      const assigned = codes.map(() => new Float64Array(D));
      rowsOf(z, D).forEach((v, i) => {
        count[ref[i]]++;
        v.forEach((x, j) => (assigned[ref[i]][j] += x));
      });
      size = size.map((s, k) => decay * s + (1 - decay) * count[k]);
      sums = sums.map((m, k) => m.map((x, j) => decay * x + (1 - decay) * assigned[k][j]));
      const total = size.reduce((a, b) => a + b, 0);
      const smoothed = size.map((s) => ((s + eps) / (total + K * eps)) * total);
      codes = sums.map((m, k) => m.map((x) => x / smoothed[k]));
      await expectClose(vq.embedding.weight, flatten(codes), 1e-5, `codebook after step ${step + 1}`);
      await expectClose(vq.stateDict().cluster_size, size, 1e-5, `cluster sizes after step ${step + 1}`);
    }
    vq.dispose();
  });

  it('moves codes to the mean of their latents; inference calls change nothing', async () => {
    const { centres, batch } = clusteredData(2);
    const vq = withCodebook(centres.map((x) => x + 0.5), { ema: { decay: 0.5 } });
    const z = batch(N);
    const before = await vq.embedding.weight.data();
    await train(vq, z, false);
    expect(Array.from(await vq.embedding.weight.data())).toEqual(Array.from(before));
    for (let i = 0; i < 30; i++) await train(vq, z);
    const ids = nearest(rowsOf(z, D), rowsOf(centres, D)).indices;
    const w = rowsOf(await vq.embedding.weight.data(), D);
    for (const k of new Set(ids)) {
      const members = rowsOf(z, D).filter((_, i) => ids[i] === k);
      const mean = members.reduce((acc, v) => acc.map((x, j) => x + v[j] / members.length), new Float64Array(D));
      await expectClose(w[k], mean, 1e-3, `code ${k} vs the mean of its latents`);
    }
    vq.dispose();
  });

  it('with useL2Norm averages the normalised latents, in the space of the normalised codes', async () => {
    const decay = 0.8, eps = 1e-5;
    const { centres, batch } = clusteredData(3);
    const vq = withCodebook(centres, { ema: { decay, eps }, useL2Norm: true });
    const z = batch(N);
    await train(vq, z);
    const codes = rowsOf(centres, D).map(normalize);
    const zl = rowsOf(z, D).map(normalize);
    const ids = nearest(zl, codes).indices;
    const count = new Float64Array(K);
    const assigned = codes.map(() => new Float64Array(D));
    zl.forEach((v, i) => {
      count[ids[i]]++;
      v.forEach((x, j) => (assigned[ids[i]][j] += x));
    });
    const size = count.map((c) => decay + (1 - decay) * c);
    const total = size.reduce((a, b) => a + b, 0);
    const smoothed = size.map((s) => ((s + eps) / (total + K * eps)) * total);
    const expected = codes.map((c, k) => c.map((x, j) => (decay * x + (1 - decay) * assigned[k][j]) / smoothed[k]));
    await expectClose(vq.embedding.weight, flatten(expected), 1e-5, 'codebook after one l2 EMA step');
    vq.dispose();
  });
});

describe('dead-code restart', () => {
  it('replaces codes unused for afterCalls training calls by latents of the current call, seeded', async () => {
    const { centres, batch } = clusteredData(4);
    const dead = [K - 2, K - 1];
    const far = centres.map((x, i) => (dead.includes(Math.floor(i / D)) ? 100 + x : x));
    const make = (seed: number) => withCodebook(far, { deadCodeRestart: { afterCalls: 3 }, seed });
    const [a, b, c] = [make(5), make(5), make(6)];
    const batches = [batch(N), batch(N), batch(N)];
    for (const vq of [a, b, c]) {
      await train(vq, batches[0]);
      await train(vq, batches[1]);
      await train(vq, batches[1], false); // inference calls do not count
    }
    expect(Array.from(await a.embedding.weight.data())).toEqual(Array.from(Float32Array.from(far)));
    for (const vq of [a, b, c]) await train(vq, batches[2]);
    const w = rowsOf(await a.embedding.weight.data(), D);
    const latents = rowsOf(Float32Array.from(batches[2]), D);
    for (let k = 0; k < K; k++) {
      if (dead.includes(k)) {
        // A restarted code is exactly one of this call's latents.
        expect(latents.some((v) => v.every((x, j) => x === w[k][j])), `code ${k} restarted from a latent`).toBe(true);
      } else {
        expect(Array.from(w[k]), `live code ${k} untouched`).toEqual(Array.from(Float32Array.from(far.subarray(k * D, (k + 1) * D))));
      }
    }
    expect(Array.from(await b.embedding.weight.data())).toEqual(Array.from(await a.embedding.weight.data()));
    expect(Array.from(await c.embedding.weight.data())).not.toEqual(Array.from(await a.embedding.weight.data()));
    [a, b, c].forEach((vq) => vq.dispose());
  });

  it('restarted codes start a fresh EMA (cluster size 1)', async () => {
    const { centres, batch } = clusteredData(5);
    const far = centres.map((x, i) => (Math.floor(i / D) === K - 1 ? 100 + x : x));
    const vq = withCodebook(far, { ema: { decay: 0.5 }, deadCodeRestart: { afterCalls: 2 } });
    await train(vq, batch(N));
    const size1 = await vq.stateDict().cluster_size.data();
    expect(size1[K - 1]).toBeCloseTo(0.5, 6);
    await train(vq, batch(N));
    const size2 = await vq.stateDict().cluster_size.data();
    expect(size2[K - 1]).toBe(1);
    vq.dispose();
  });
});

describe('usage statistics', () => {
  it('count assignments since the last reset, in training and inference calls', async () => {
    const codes = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1, -1, 0, 0].slice(0, 4 * D));
    const vq = new VectorQuantizer({ dim: D, codebookSize: 4, seed: 1 });
    const w = tf.tensor(Float32Array.from(codes), [4, D]);
    vq.loadStateDict({ 'embedding.weight': w });
    w.dispose();
    const z = (rows: number[][]) => new Float64Array(rows.flat());
    await train(vq, z([[0.9, 0, 0], [1.1, 0.1, 0], [0.8, 0, 0.1], [0, 1, 0]]), false); // codes 0,0,0,1
    let s = await vq.usageStatistics();
    expect(Array.from(s.counts)).toEqual([3, 1, 0, 0]);
    expect(s.assignments).toBe(4);
    expect(s.usedCodes).toBe(2);
    expect(s.usedFraction).toBe(0.5);
    expect(s.perplexity).toBeCloseTo(Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))), 10);
    await train(vq, z([[0, 0, 1], [-1, 0, 0], [0, 0, 2], [-3, 0, 0]])); // codes 2,3,2,3
    s = await vq.usageStatistics();
    expect(Array.from(s.counts)).toEqual([3, 1, 2, 2]);
    expect(s.usedFraction).toBe(1);
    vq.resetUsageStatistics();
    s = await vq.usageStatistics();
    expect(s.assignments).toBe(0);
    expect(s.usedCodes).toBe(0);
    expect(s.perplexity).toBe(0);
    vq.dispose();
    const off = new VectorQuantizer({ dim: D, codebookSize: 4, trackUsage: false });
    await expect(off.usageStatistics()).rejects.toThrow(/trackUsage/);
    off.dispose();
  });
});
