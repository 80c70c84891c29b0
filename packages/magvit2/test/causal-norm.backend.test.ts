/**
 * The strictly causal normalisation ('causal'): GroupNorm and AdaptiveGroupNorm statistics of frame t
 * over frames 0..t, checked against a float64 reference written here from the definition, plus the
 * properties it exists for.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cumulativeMoments, groupNorm, SeededRandom } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { styleStatsCausal, styleStatsWhole } from '../src/layers/adaptive-norm';
import { causalGroupNorm, FrameGroupNorm, normalizeGroups } from '../src/layers/norm';
import { dropSecondFrame, upsampledFrameSources } from '../src/layers/upsample';

const TOL = 2e-5;

/** Reference: x [B,T,H,W,C] as nested index; statistics over (frames <= t, H, W, channels of the group), float64. */
function referenceCausalGroupNorm(x: Float32Array, [b, t, h, w, c]: number[], groups: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  const cg = c / groups;
  const at = (bi: number, ti: number, hi: number, wi: number, ci: number) => (((bi * t + ti) * h + hi) * w + wi) * c + ci;
  for (let bi = 0; bi < b; bi++) {
    for (let g = 0; g < groups; g++) {
      for (let ti = 0; ti < t; ti++) {
        let sum = 0;
        let n = 0;
        for (let s = 0; s <= ti; s++) for (let hi = 0; hi < h; hi++) for (let wi = 0; wi < w; wi++) for (let k = 0; k < cg; k++) {
          sum += x[at(bi, s, hi, wi, g * cg + k)];
          n++;
        }
        const mean = sum / n;
        let sq = 0;
        for (let s = 0; s <= ti; s++) for (let hi = 0; hi < h; hi++) for (let wi = 0; wi < w; wi++) for (let k = 0; k < cg; k++) {
          sq += (x[at(bi, s, hi, wi, g * cg + k)] - mean) ** 2;
        }
        const inv = 1 / Math.sqrt(sq / n + eps);
        for (let hi = 0; hi < h; hi++) for (let wi = 0; wi < w; wi++) for (let k = 0; k < cg; k++) {
          const i = at(bi, ti, hi, wi, g * cg + k);
          out[i] = (x[i] - mean) * inv;
        }
      }
    }
  }
  return out;
}

async function maxRelError(got: tf.Tensor, ref: ArrayLike<number>): Promise<number> {
  const a = await got.data();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return err / Math.max(scale, 1);
}

describe('causal GroupNorm', () => {
  const shape = [2, 4, 3, 5, 64];
  const rng = new SeededRandom(7);
  // An offset per frame and a large common mean, so cumulative statistics differ from per-frame ones
  // and a cancellation-prone formula would show.
  const values = rng.normalArray(shape.reduce((a, b) => a * b)).map((v, i) => 3 * v + 20 + Math.floor(i / (3 * 5 * 64)) % 4);

  it('normalises frame t with the statistics of frames 0..t', async () => {
    const x = tf.tensor(values, shape);
    const y = causalGroupNorm(x, 32, 1e-6);
    expect(await maxRelError(y, referenceCausalGroupNorm(values, shape, 32, 1e-6))).toBeLessThanOrEqual(TOL);
    tf.dispose([x, y]);
  });

  it('frame 0 is exactly the GroupNorm of frame 0 alone; the last frame is the whole-clip GroupNorm', async () => {
    const x = tf.tensor(values, shape);
    const [b, t, h, w, c] = shape;
    const causal = causalGroupNorm(x, 32, 1e-6);
    const first = tf.slice(causal, [0, 0, 0, 0, 0], [b, 1, h, w, c]);
    const alone = causalGroupNorm(tf.slice(x, [0, 0, 0, 0, 0], [b, 1, h, w, c]), 32, 1e-6);
    expect(Array.from(await first.data())).toEqual(Array.from(await alone.data()));
    const last = tf.slice(causal, [0, t - 1, 0, 0, 0], [b, 1, h, w, c]);
    const whole = tf.slice(groupNorm(x, 32, undefined, undefined, 1e-6), [0, t - 1, 0, 0, 0], [b, 1, h, w, c]);
    expect(await maxRelError(last, await whole.data())).toBeLessThanOrEqual(TOL);
    tf.dispose([x, causal, first, alone, last, whole]);
  });

  it('leaves no tensors behind', () => {
    const x = tf.tensor(values, shape);
    const before = tf.memory().numTensors;
    const y = causalGroupNorm(x, 32, 1e-6);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y]);
  });
});

describe("the model's NormMode on core's groupNorm", () => {
  it("'causal' applies to clips only; FrameGroupNorm is core's GroupNorm(32, C, eps 1e-6) with PyTorch's keys", async () => {
    const rng = new SeededRandom(11);
    const clip = tf.tensor(rng.normalArray(1 * 3 * 2 * 2 * 64), [1, 3, 2, 2, 64]);
    const image = tf.tensor(rng.normalArray(2 * 2 * 2 * 64), [2, 2, 2, 64]);
    const norm = new FrameGroupNorm(64);
    expect(Object.keys(norm.stateDict())).toEqual(['weight', 'bias']);
    const pairs: [tf.Tensor, tf.Tensor][] = [
      [normalizeGroups(clip, 'causal'), groupNorm(clip, 32, undefined, undefined, 1e-6, { causal: true })],
      [normalizeGroups(clip, 'clip'), groupNorm(clip, 32, undefined, undefined, 1e-6)],
      [normalizeGroups(image, 'causal'), groupNorm(image, 32, undefined, undefined, 1e-6)],
      [norm.forward(clip, 'causal'), groupNorm(clip, 32, norm.weight, norm.bias, 1e-6, { causal: true })],
      [norm.forward(image, 'causal'), groupNorm(image, 32, norm.weight, norm.bias, 1e-6)],
    ];
    for (const [got, want] of pairs) expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
    tf.dispose([clip, image, ...pairs.flat()]);
    norm.dispose();
  });
});

describe('cumulative moments', () => {
  it('combine per-frame moments exactly as the moments of the pooled frames', async () => {
    // 3 frames of 4 values each, per (b, k): the pooled statistics computed directly.
    const frames = [
      [1, 2, 3, 4],
      [10, 10, 12, 8],
      [-5, 0, 5, 1],
    ];
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const variance = (a: number[]) => mean(a.map((v) => (v - mean(a)) ** 2));
    const m = tf.tensor(frames.map(mean), [1, 3, 1]);
    const v = tf.tensor(frames.map(variance), [1, 3, 1]);
    const got = cumulativeMoments(m, v);
    const pooled = frames.map((_, t) => frames.slice(0, t + 1).flat());
    const gm = await got.mean.data();
    const gv = await got.variance.data();
    pooled.forEach((p, t) => {
      expect(gm[t]).toBeCloseTo(mean(p), 5);
      expect(gv[t]).toBeCloseTo(variance(p), 4);
    });
    tf.dispose([m, v, got.mean, got.variance]);
  });
});

describe('AdaptiveGroupNorm style statistics', () => {
  it('causal statistics of latent frames 0..τ: unbiased variance over (τ+1)·h·w positions, frame 0 as the frame alone', async () => {
    const rng = new SeededRandom(3);
    const [b, t, h, w, z] = [2, 3, 2, 3, 4];
    const zq = tf.tensor(Float32Array.from(rng.normalArray(b * t * h * w * z), (v) => (v > 0 ? 1 : -1)), [b, t, h, w, z]);
    const causal = styleStatsCausal(zq);
    const std = await causal.std.data();
    const mean = await causal.mean.data();
    const data = await zq.data();
    for (let bi = 0; bi < b; bi++) for (let ti = 0; ti < t; ti++) for (let k = 0; k < z; k++) {
      const vals: number[] = [];
      for (let s = 0; s <= ti; s++) for (let p = 0; p < h * w; p++) vals.push(data[((bi * t + s) * h * w + p) * z + k]);
      const m = vals.reduce((a, v) => a + v, 0) / vals.length;
      const varUnbiased = vals.reduce((a, v) => a + (v - m) ** 2, 0) / (vals.length - 1);
      const i = (bi * t + ti) * z + k;
      expect(mean[i]).toBeCloseTo(m, 5);
      expect(std[i]).toBeCloseTo(Math.sqrt(varUnbiased + 1e-6), 5);
    }
    // Latent frame 0 alone gives the same statistics as frame 0 inside the clip, exactly.
    const alone = styleStatsCausal(tf.slice(zq, [0, 0, 0, 0, 0], [b, 1, h, w, z]));
    const inClip = tf.slice(causal.std, [0, 0, 0], [b, 1, z]);
    expect(Array.from(await alone.std.data())).toEqual(Array.from(await inClip.data()));
    // The last cumulative frame is the whole-clip statistic.
    const whole = styleStatsWhole(zq);
    const last = tf.reshape(tf.slice(causal.std, [0, t - 1, 0], [b, 1, z]), [b, z]);
    expect(await maxRelError(last, await whole.std.data())).toBeLessThanOrEqual(1e-5);
    tf.dispose([zq, causal.std, causal.mean, alone.std, alone.mean, inClip, whole.std, whole.mean, last]);
  });
});

describe('causal up-sampling bookkeeping', () => {
  it('drops frame 1 after a temporal ×2 and maps each output frame to its source', async () => {
    const x = tf.tensor(Float32Array.from({ length: 6 }, (_, i) => i), [1, 6, 1, 1, 1]);
    const y = dropSecondFrame(x);
    expect(Array.from(await y.data())).toEqual([0, 2, 3, 4, 5]);
    const two = dropSecondFrame(tf.tensor([7, 8], [1, 2, 1, 1, 1]));
    expect(Array.from(await two.data())).toEqual([7]);
    // 3 latent frames -> 6 -> keep [0, 2, 3, 4, 5]: sources 0, 1, 1, 2, 2.
    expect(upsampledFrameSources(3, 2)).toEqual([0, 1, 1, 2, 2]);
    expect(upsampledFrameSources(1, 2)).toEqual([0]);
    expect(upsampledFrameSources(4, 1)).toEqual([0, 1, 2, 3]);
    tf.dispose([x, y, two]);
  });
});
