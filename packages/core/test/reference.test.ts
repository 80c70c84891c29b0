// The float64 reference is only as good as its own checks: known values and hand-worked cases.
import { describe, expect, it } from 'vitest';
import { M, RefRandom, dot, fromArray, numericGrad, ref, refLayers } from './reference';

describe('float64 reference', () => {
  it('erf matches tabulated values to ~1e-15', () => {
    // Abramowitz & Stegun table 7.1 / any CAS.
    const table: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
    ];
    for (const [x, v] of table) {
      expect(Math.abs(M.erf(x) - v)).toBeLessThan(2e-15);
      expect(Math.abs(M.erf(-x) + v)).toBeLessThan(2e-15);
    }
    expect(M.erf(0)).toBe(0);
    expect(M.erf(7)).toBe(1);
  });

  it('gelu and silu at known points', () => {
    expect(M.gelu(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(M.gelu(-1)).toBeCloseTo(-0.15865525393145707, 14);
    expect(M.silu(1)).toBeCloseTo(0.7310585786300049, 14);
  });

  it('conv2d on a hand-worked case: 3×3 ones kernel, padding 1, stride 2', () => {
    const x = fromArray([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = fromArray([3, 3, 1, 1], new Array(9).fill(1));
    const y = ref.conv2d(x, w, { pad: [[1, 1], [1, 1]], stride: [2, 2] });
    // Output pixels centred at (0,0), (0,2), (2,0), (2,2): sums of their in-bounds 2×2 neighbourhoods.
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.data)).toEqual([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  });

  it('conv2d dilation 2 reads every other pixel', () => {
    const x = fromArray([1, 1, 5, 1], [1, 2, 3, 4, 5]);
    const w = fromArray([1, 3, 1, 1], [1, 10, 100]);
    expect(Array.from(ref.conv2d(x, w, { dilation: [1, 2] }).data)).toEqual([1 + 30 + 500]);
  });

  it('causal conv3d: frame t sees frames t−kt+1..t; replicate repeats frame 0', () => {
    // One pixel, one channel, frames [1, 2, 3], kernel over time [1, 10] (older, newer).
    const x = fromArray([1, 3, 1, 1, 1], [1, 2, 3]);
    const w = fromArray([2, 1, 1, 1, 1], [1, 10]);
    expect(Array.from(ref.causalConv3d(x, w).data)).toEqual([10, 21, 32]);
    expect(Array.from(ref.causalConv3d(x, w, { mode: 'replicate' }).data)).toEqual([11, 21, 32]);
  });

  it('attention with equal scores averages the values; a bool mask removes keys', () => {
    const q = fromArray([1, 2], [0, 0]);
    const k = fromArray([3, 2], [1, 2, 3, 4, 5, 6]);
    const v = fromArray([3, 1], [3, 6, 9]);
    expect(ref.attention(q, k, v).data[0]).toBeCloseTo(6, 12);
    const mask = { shape: [1, 3], data: Float64Array.from([1, 0, 1]), kind: 'bool' as const };
    expect(ref.attention(q, k, v, { mask }).data[0]).toBeCloseTo(6, 12);
    const mask2 = { shape: [1, 3], data: Float64Array.from([0, 1, 0]), kind: 'bool' as const };
    expect(ref.attention(q, k, v, { mask: mask2 }).data[0]).toBeCloseTo(6, 12);
    const mask3 = { shape: [1, 3], data: Float64Array.from([1, 0, 0]), kind: 'bool' as const };
    expect(ref.attention(q, k, v, { mask: mask3 }).data[0]).toBeCloseTo(3, 12);
  });

  it('group norm with one group equals layer norm over all of (spatial, C)', () => {
    const rr = new RefRandom(1);
    const x = rr.array([1, 4, 3]);
    const gn = ref.groupNorm(x, 1, undefined, undefined, 1e-5);
    const ln = ref.layerNorm({ shape: [1, 12], data: x.data }, undefined, undefined, 1e-5);
    for (let i = 0; i < 12; i++) expect(gn.data[i]).toBeCloseTo(ln.data[i], 14);
  });

  it('multi-head attention with one head and identity projections is plain attention', () => {
    const rr = new RefRandom(2);
    const e = 3;
    const eye = (n: number) => fromArray([n, n], Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)));
    const inW = fromArray([3 * e, e], [...eye(e).data, ...eye(e).data, ...eye(e).data]);
    const x = rr.array([1, 4, e]);
    const out = refLayers.multiheadAttention(x, x, x, { in_proj_weight: inW, 'out_proj.weight': eye(e) }, 1);
    const plain = ref.attention(x, x, x);
    for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBeCloseTo(plain.data[i], 14);
  });

  it('numericGrad recovers the gradient of a cubic to ~1e-9', () => {
    const x = fromArray([3], [0.5, -1.2, 2]);
    const c = fromArray([3], [1, 2, 3]);
    const g = numericGrad(() => dot(x, x) * dot(c, x), x);
    const cx = dot(c, x);
    const xx = dot(x, x);
    for (let i = 0; i < 3; i++) expect(Math.abs(g.data[i] - (2 * x.data[i] * cx + xx * c.data[i]))).toBeLessThan(1e-8);
  });

  it('depth-to-space reference orders on one pixel', () => {
    const x = fromArray([1, 1, 1, 8], [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(ref.depthToSpace2d(x, 2, 'torch').data)).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    expect(Array.from(ref.depthToSpace2d(x, 2, 'tf').data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const back = ref.spaceToDepth2d(ref.depthToSpace2d(x, 2, 'torch'), 2, 'torch');
    expect(Array.from(back.data)).toEqual(Array.from(x.data));
  });
});
