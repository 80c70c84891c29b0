// PSNR and SSIM against float64 references written in plain loops; codebook statistics by hand.
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';
import { disposeAll, expectClose, expectError, expectNoLeak, prng } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { CodebookUsage, codebookStats, codebookStatsOfCounts, psnr, ssim } from '../src/metrics';

/** [B, H, W, C] images in [0, 1] (float32 values) and a noisy, clamped copy. */
function imagePair(B: number, H: number, W: number, C: number, seed: number, noise: number) {
  const r = prng(seed);
  const n = B * H * W * C;
  // Smooth-ish content (a gradient plus noise) so that the structure term is not trivial.
  const x = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.min(1, Math.max(0, 0.5 + 0.3 * Math.sin(i / 7) + 0.15 * r.normal()))));
  const y = Float64Array.from(x, (v) => Math.fround(Math.min(1, Math.max(0, v + noise * r.normal()))));
  return { x, y, shape: [B, H, W, C] as const };
}

/** skimage's structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1) per image, in float64 loops. */
function ssim64(x: Float64Array, y: Float64Array, [B, H, W, C]: readonly number[], size = 11, sigma = 1.5, L = 1): number[] {
  const c = (size - 1) / 2;
  const g1 = Array.from({ length: size }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  const s = g1.reduce((a, b) => a + b, 0);
  const g = g1.map((v) => v / s);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const at = (b: number, i: number, j: number, ch: number) => ((b * H + i) * W + j) * C + ch;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let total = 0;
    let count = 0;
    for (let ch = 0; ch < C; ch++) {
      for (let i = 0; i + size <= H; i++) {
        for (let j = 0; j + size <= W; j++) {
          let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
          for (let u = 0; u < size; u++) {
            for (let v = 0; v < size; v++) {
              const w = g[u] * g[v];
              const a = x[at(b, i + u, j + v, ch)];
              const bb = y[at(b, i + u, j + v, ch)];
              mx += w * a;
              my += w * bb;
              xx += w * a * a;
              yy += w * bb * bb;
              xy += w * a * bb;
            }
          }
          const vx = xx - mx * mx;
          const vy = yy - my * my;
          const cxy = xy - mx * my;
          total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
          count += 1;
        }
      }
    }
    out.push(total / count);
  }
  return out;
}

function psnr64(x: Float64Array, y: Float64Array, [B]: readonly number[]): number[] {
  const per = x.length / B;
  return Array.from({ length: B }, (_, b) => {
    let se = 0;
    for (let i = b * per; i < (b + 1) * per; i++) se += (x[i] - y[i]) ** 2;
    return 10 * Math.log10(1 / (se / per));
  });
}

describe('psnr', () => {
  it('by hand: 0 against a constant 0.1 is 20 dB, against 0.01 is 40 dB; identical images give Infinity', async () => {
    const a = tf.zeros([3, 4, 4, 3]);
    const b = tf.concat([tf.fill([1, 4, 4, 3], 0.1), tf.fill([1, 4, 4, 3], 0.01), tf.zeros([1, 4, 4, 3])]);
    const p = psnr(a, b);
    const v = await p.data();
    expect(v[0]).toBeCloseTo(20, 4);
    expect(v[1]).toBeCloseTo(40, 3);
    expect(v[2]).toBe(Infinity);
    const p255 = psnr(tf.mul(a, 255) as tf.Tensor, tf.mul(b, 255) as tf.Tensor, { dataRange: 255 });
    expect((await p255.data())[0]).toBeCloseTo(20, 3);
    disposeAll([a, b, p, p255]);
  });

  it('equals the float64 per-image PSNR on noisy images', async () => {
    const { x, y, shape } = imagePair(2, 16, 12, 3, 1, 0.05);
    const tx = tf.tensor4d(Float32Array.from(x), [...shape] as [number, number, number, number]);
    const ty = tf.tensor4d(Float32Array.from(y), [...shape] as [number, number, number, number]);
    const p = psnr(tx, ty);
    await expectClose(p, { shape: [2], data: psnr64(x, y, shape) }, 1e-5, 'psnr');
    await expectNoLeak(() => psnr(tx, ty), 'psnr');
    disposeAll([tx, ty, p]);
  });
});

describe('ssim', () => {
  for (const [noise, seed] of [[0.05, 2], [0.3, 3]] as const) {
    it(`equals the float64 loop reference (Gaussian 11×11, σ 1.5, K1 0.01, K2 0.03, RGB), noise ${noise}`, async () => {
      const { x, y, shape } = imagePair(2, 20, 17, 3, seed, noise);
      const tx = tf.tensor4d(Float32Array.from(x), [...shape] as [number, number, number, number]);
      const ty = tf.tensor4d(Float32Array.from(y), [...shape] as [number, number, number, number]);
      const ref = ssim64(x, y, shape);
      expect(ref[0]).toBeLessThan(noise > 0.1 ? 0.8 : 0.99);
      const s = ssim(tx, ty);
      // SSIM is in [−1, 1]; float32 local variances E[x²] − μ² against float64: measured <= 2e-7 on cpu and wasm.
      await expectClose(s, { shape: [2], data: ref }, 1e-5, 'ssim');
      await expectNoLeak(() => ssim(tx, ty), 'ssim');
      const same = ssim(tx, tx);
      await expectClose(same, [1, 1], 1e-5, 'ssim(x, x)');
      disposeAll([tx, ty, s, same]);
    });
  }

  it('a single-channel image with the smallest size (one window position)', async () => {
    const { x, y, shape } = imagePair(1, 11, 11, 1, 4, 0.1);
    const tx = tf.tensor4d(Float32Array.from(x), [1, 11, 11, 1]);
    const ty = tf.tensor4d(Float32Array.from(y), [1, 11, 11, 1]);
    const s = ssim(tx, ty);
    await expectClose(s, { shape: [1], data: ssim64(x, y, shape) }, 1e-5, 'ssim 11×11');
    disposeAll([tx, ty, s]);
  });

  it('typed errors for images it cannot compare', async () => {
    const a = tf.zeros([1, 16, 16, 3]);
    const small = tf.zeros([1, 8, 16, 3]);
    const other = tf.zeros([1, 16, 15, 3]);
    const ints = tf.zeros([1, 16, 16, 3], 'int32');
    const flat = tf.zeros([16, 16, 3]);
    await expectError(() => ssim(small, small), ShapeError, /ssim: images must be at least 11×11 \(the window\), got 8×16/);
    await expectError(() => ssim(a, other), ShapeError, /must have the same shape, got \[1, 16, 16, 3\] and \[1, 16, 15, 3\]/);
    await expectError(() => psnr(a, ints), DTypeError, /psnr: reference images must be float32, got int32/);
    await expectError(() => psnr(flat, flat), ShapeError, /expected images of rank 4 \[B, H, W, C\], got shape \[16, 16, 3\]/);
    await expectError(() => ssim(a, a, { windowSize: 4 }), ValueError, /windowSize must be odd, got 4/);
    await expectError(() => psnr(a, a, { dataRange: 0 }), ValueError, /dataRange must be a finite number > 0, got 0/);
    await expectError(() => psnr([1] as never, a), ValueError, /psnr: images must be a tf.Tensor, got an array/);
    disposeAll([a, small, other, ints, flat]);
  });
});

describe('codebook statistics', () => {
  it('by hand: ids 0, 0, 1, 2 of 8 codes: 3 used (0.375), entropy 1.5 bits, perplexity 2^1.5', async () => {
    const ids = tf.tensor2d([0, 0, 1, 2], [2, 2], 'int32');
    const before = tf.memory().numTensors;
    const s = await codebookStats(ids, 8);
    expect(tf.memory().numTensors).toBe(before);
    expect(s.tokens).toBe(4);
    expect(s.usedCodes).toBe(3);
    expect(s.usage).toBe(0.375);
    expect(s.entropyBits).toBeCloseTo(1.5, 12);
    expect(s.entropy).toBeCloseTo(1.5 * Math.LN2, 12);
    expect(s.perplexity).toBeCloseTo(2 ** 1.5, 12);
    ids.dispose();
  });

  it('accumulates over batches; uniform use of all codes gives entropy log2 K and perplexity K; one code gives 0 and 1', async () => {
    const usage = new CodebookUsage(16);
    const a = tf.range(0, 8, 1, 'int32');
    const b = tf.range(8, 16, 1, 'int32');
    await usage.add(a);
    await usage.add(b);
    const s = usage.stats();
    expect(s.usage).toBe(1);
    expect(s.entropyBits).toBeCloseTo(4, 12);
    expect(s.perplexity).toBeCloseTo(16, 10);
    usage.reset();
    const c = tf.fill([5], 3, 'int32');
    await usage.add(c);
    expect(usage.stats()).toMatchObject({ tokens: 5, usedCodes: 1, usage: 1 / 16, entropy: 0, perplexity: 1 });
    expect(codebookStatsOfCounts([0, 0]).perplexity).toBe(1);
    disposeAll([a, b, c]);
  });

  it('typed errors: float ids, ids out of range', async () => {
    const f = tf.zeros([3]);
    const out = tf.tensor1d([0, 8, -1], 'int32');
    await expectError(() => codebookStats(f, 8), DTypeError, /indices must be int32 code ids, got float32/);
    await expectError(() => codebookStats(out, 8), ValueError, /code ids must be in \[0, 7\] \(codebook size 8\), got values from -1 to 8/);
    await expectError(() => codebookStats(out, 0), ValueError, /codebookSize must be a positive integer, got 0/);
    disposeAll([f, out]);
  });
});
