// Composite ops against the float64 reference (forward and gradients) on the active backend.
import * as tf from '@tensorflow/tfjs-core';

import { describe, expect, it } from 'vitest';
import {
  causalConv3d,
  conv2dTorch,
  cumulativeMoments,
  gelu,
  groupNorm,
  layerNorm,
  scaledDotProductAttention,
  silu,
  stopGradient,
  straightThrough,
} from '../src/ops';
import { checkOp } from './helpers/check';
import { toTensor } from './helpers/tensors';
import { RefRandom, ref } from './reference';
import { expectClose } from '@vtok/test-utils';


describe('activations', () => {
  it('gelu (exact erf form) matches the float64 reference, with gradient', async () => {
    const rr = new RefRandom(1);
    await checkOp(rr, { label: 'gelu', op: gelu, ref: ref.gelu, inputs: [rr.array([4, 25], 2.5)] });
  });

  it('silu matches the float64 reference, with gradient', async () => {
    const rr = new RefRandom(2);
    await checkOp(rr, { label: 'silu', op: silu, ref: ref.silu, inputs: [rr.array([4, 25], 3)] });
  });
});

describe('layerNorm', () => {
  it('normalises the last axis with affine parameters', async () => {
    const rr = new RefRandom(3);
    await checkOp(rr, {
      label: 'layerNorm',
      op: (x, g, b) => layerNorm(x, g, b, 1e-5),
      ref: (x, g, b) => ref.layerNorm(x, g, b, 1e-5),
      inputs: [rr.array([2, 3, 8], 2), rr.array([8]), rr.array([8])],
    });
  });

  it('works without gamma and beta and with a large eps', async () => {
    const rr = new RefRandom(4);
    await checkOp(rr, {
      label: 'layerNorm plain',
      op: (x) => layerNorm(x, undefined, undefined, 0.5),
      ref: (x) => ref.layerNorm(x, undefined, undefined, 0.5),
      inputs: [rr.array([5, 6])],
    });
  });
});

describe('groupNorm', () => {
  for (const [shape, groups] of [
    [[2, 5, 6], 3],
    [[2, 3, 3, 8], 4],
    [[1, 2, 3, 2, 4], 2],
  ] as [number[], number][]) {
    it(`channels-last rank ${shape.length} ${JSON.stringify(shape)} in ${groups} groups`, async () => {
      const rr = new RefRandom(5 + shape.length);
      const c = shape[shape.length - 1];
      await checkOp(rr, {
        label: `groupNorm ${shape}`,
        op: (x, g, b) => groupNorm(x, groups, g, b, 1e-6),
        ref: (x, g, b) => ref.groupNorm(x, groups, g, b, 1e-6),
        inputs: [rr.array(shape, 1.5), rr.array([c]), rr.array([c])],
      });
    });
  }

  it('one group per channel and no affine', async () => {
    const rr = new RefRandom(9);
    await checkOp(rr, {
      label: 'groupNorm instance',
      op: (x) => groupNorm(x, 4),
      ref: (x) => ref.groupNorm(x, 4, undefined, undefined, 1e-5),
      inputs: [rr.array([2, 3, 3, 4])],
    });
  });

  it('keeps float32 statistics accurate over 262k terms per group with a non-zero mean', async () => {
    // PyTorch sums pairwise; a single float32 pass over all terms was off by 2.2e-4 here.
    const shape = [1, 256, 256, 64];
    const rr = new RefRandom(12);
    const input = rr.array(shape, 1);
    for (let i = 0; i < input.data.length; i++) input.data[i] = Math.fround(input.data[i] + 3);
    const want = ref.groupNorm(input, 16, undefined, undefined, 1e-6);
    const x = toTensor(input);
    const y = groupNorm(x, 16, undefined, undefined, 1e-6);
    const got = await y.data();
    tf.dispose([x, y]);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.data[i]));
    expect(worst).toBeLessThanOrEqual(2e-5); // outputs are O(1): float32 parity with room for the backend's sums
  });

  it('a batch of several samples is as accurate as one (the rank-3 path), over 65k terms per group', async () => {
    const shape = [3, 64, 64, 32];
    const rr = new RefRandom(13);
    const input = rr.array(shape, 1);
    for (let i = 0; i < input.data.length; i++) input.data[i] = Math.fround(input.data[i] * 2 + 5);
    const gamma = rr.array([32]);
    const beta = rr.array([32]);
    const want = ref.groupNorm(input, 8, gamma, beta, 1e-6);
    const [x, g, b] = [input, gamma, beta].map(toTensor);
    const y = groupNorm(x, 8, g, b, 1e-6);
    const got = await y.data();
    tf.dispose([x, g, b, y]);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.data[i]));
    expect(worst).toBeLessThanOrEqual(2e-5);
  });

  for (const [shape, groups] of [
    [[2, 3, 2, 3, 4], 2],
    [[1, 4, 5, 6], 3],
    [[1, 1, 2, 2, 4], 4],
  ] as [number[], number][]) {
    it(`causal statistics over frames (axis 1) ${JSON.stringify(shape)} in ${groups} groups, with gradient`, async () => {
      const rr = new RefRandom(20 + shape.length + shape[1]);
      const c = shape[shape.length - 1];
      await checkOp(rr, {
        label: `groupNorm causal ${shape}`,
        op: (x, g, b) => groupNorm(x, groups, g, b, 1e-6, { causal: true }),
        ref: (x, g, b) => ref.causalGroupNorm(x, groups, g, b, 1e-6),
        inputs: [rr.array(shape, 1.5), rr.array([c]), rr.array([c])],
      });
    });
  }

  it('causal: frame 0 is bit-identical to frame 0 alone, whatever the batch; the last frame is the whole-clip GroupNorm', async () => {
    const rr = new RefRandom(31);
    // A large common mean and a per-frame offset, so cumulative statistics differ from per-frame ones.
    const shape = [2, 4, 3, 5, 64];
    const input = rr.array(shape, 3);
    const frame = 3 * 5 * 64;
    for (let i = 0; i < input.data.length; i++) input.data[i] = Math.fround(input.data[i] + 20 + (Math.floor(i / frame) % 4));
    const x = toTensor(input);
    const gamma = toTensor(rr.array([64]));
    const beta = toTensor(rr.array([64]));
    const clip = groupNorm(x, 32, gamma, beta, 1e-6, { causal: true });
    const [b, t, h, w, c] = shape;
    for (const batch of [b, 1]) {
      const first = tf.slice(clip, [0, 0, 0, 0, 0], [batch, 1, h, w, c]);
      const frame0 = tf.slice(x, [0, 0, 0, 0, 0], [batch, 1, h, w, c]);
      const alone = groupNorm(frame0, 32, gamma, beta, 1e-6, { causal: true });
      const image = groupNorm(tf.reshape(frame0, [batch, h, w, c]), 32, gamma, beta, 1e-6);
      expect(Array.from(await first.data()), `batch ${batch}: frame 0 alone`).toEqual(Array.from(await alone.data()));
      expect(Array.from(await first.data()), `batch ${batch}: frame 0 as an image`).toEqual(Array.from(await image.data()));
      tf.dispose([first, frame0, alone, image]);
    }
    const last = await tf.slice(clip, [0, t - 1, 0, 0, 0], [b, 1, h, w, c]).data();
    const whole = await tf.slice(groupNorm(x, 32, gamma, beta, 1e-6), [0, t - 1, 0, 0, 0], [b, 1, h, w, c]).data();
    let worst = 0;
    for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(last[i] - whole[i]));
    expect(worst).toBeLessThanOrEqual(2e-5);
    const want = ref.causalGroupNorm(input, 32, undefined, undefined, 1e-6);
    const plain = groupNorm(x, 32, undefined, undefined, 1e-6, { causal: true });
    await expectClose(plain, want, 2e-5, 'causal groupNorm, large mean');
    tf.dispose([x, gamma, beta, clip, plain]);
  });
});

describe('cumulativeMoments', () => {
  it('combines per-frame moments exactly as the moments of the pooled frames', async () => {
    const frames = [
      [1, 2, 3, 4],
      [10, 10, 12, 8],
      [-5, 0, 5, 1],
    ];
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const variance = (a: number[]) => mean(a.map((v) => (v - mean(a)) ** 2));
    const m = tf.tensor(frames.map(mean), [1, 3, 1]);
    const v = tf.tensor(frames.map(variance), [1, 3, 1]);
    const before = tf.memory().numTensors;
    const got = cumulativeMoments(m, v);
    expect(tf.memory().numTensors).toBe(before + 2);
    const gm = await got.mean.data();
    const gv = await got.variance.data();
    frames.forEach((_, t) => {
      const pooled = frames.slice(0, t + 1).flat();
      expect(gm[t]).toBeCloseTo(mean(pooled), 5);
      expect(gv[t]).toBeCloseTo(variance(pooled), 4);
    });
    tf.dispose([m, v, got.mean, got.variance]);
  });
});

describe('scaledDotProductAttention', () => {
  it('without a mask, over [B, heads, N, D]', async () => {
    const rr = new RefRandom(10);
    await checkOp(rr, {
      label: 'sdpa',
      op: (q, k, v) => scaledDotProductAttention(q, k, v),
      ref: (q, k, v) => ref.attention(q, k, v),
      inputs: [rr.array([2, 2, 3, 4]), rr.array([2, 2, 5, 4]), rr.array([2, 2, 5, 3])],
    });
  });

  it('with a broadcast bool mask (true keeps) and a custom scale', async () => {
    const rr = new RefRandom(11);
    // Causal pattern over [Nq=4, Nk=4]; every row keeps at least one key.
    const keep = Array.from({ length: 16 }, (_, i) => (i % 4 <= Math.floor(i / 4) ? 1 : 0));
    const mask = tf.tensor(keep.map(Boolean), [4, 4], 'bool');
    const refMask = { shape: [4, 4], data: Float64Array.from(keep), kind: 'bool' as const };
    await checkOp(rr, {
      label: 'sdpa bool mask',
      op: (q, k, v) => scaledDotProductAttention(q, k, v, { mask, scale: 0.3 }),
      ref: (q, k, v) => ref.attention(q, k, v, { mask: refMask, scale: 0.3 }),
      inputs: [rr.array([2, 4, 3]), rr.array([2, 4, 3]), rr.array([2, 4, 2])],
    });
    mask.dispose();
  });

  it('rank 5 (extra leading axis) with an [Nq, Nk] float mask', async () => {
    const rr = new RefRandom(15);
    const m = rr.array([3, 4], 2);
    const mask = toTensor(m);
    await checkOp(rr, {
      label: 'sdpa rank 5',
      op: (q, k, v) => scaledDotProductAttention(q, k, v, { mask }),
      ref: (q, k, v) => ref.attention(q, k, v, { mask: { ...m, kind: 'float' } }),
      inputs: [rr.array([2, 2, 2, 3, 4]), rr.array([2, 2, 2, 4, 4]), rr.array([2, 2, 2, 4, 2])],
    });
    mask.dispose();
  });

  it('with an additive float mask of shape [B, 1, Nq, Nk]', async () => {
    const rr = new RefRandom(12);
    const m = rr.array([2, 1, 3, 4], 2);
    const mask = toTensor(m);
    await checkOp(rr, {
      label: 'sdpa float mask',
      op: (q, k, v) => scaledDotProductAttention(q, k, v, { mask }),
      ref: (q, k, v) => ref.attention(q, k, v, { mask: { ...m, kind: 'float' } }),
      inputs: [rr.array([2, 2, 3, 4]), rr.array([2, 2, 4, 4]), rr.array([2, 2, 4, 4])],
    });
    mask.dispose();
  });
});

describe('straightThrough and stopGradient', () => {
  it('straightThrough returns q exactly and passes the gradient to x unchanged', async () => {
    const rr = new RefRandom(13);
    const x = toTensor(rr.array([3, 5]));
    const q = tf.tidy(() => tf.sign(x));
    const y = straightThrough(x, q);
    expect(Array.from(await y.data())).toEqual(Array.from(await q.data()));
    y.dispose();
    const dy = toTensor(rr.array([3, 5]));
    const before = tf.memory().numTensors;
    const [gx, gq] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(straightThrough(a, b), dy)))([x, q]);
    expect(Array.from(await gx.data())).toEqual(Array.from(await dy.data()));
    expect(Array.from(await gq.data()).every((v) => v === 0)).toBe(true);
    tf.dispose([gx, gq]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, q, dy]);
  });

  it('stopGradient keeps the value and blocks the gradient', async () => {
    const rr = new RefRandom(14);
    const x = toTensor(rr.array([4, 3]));
    const before = tf.memory().numTensors;
    const y = stopGradient(x);
    expect(Array.from(await y.data())).toEqual(Array.from(await x.data()));
    y.dispose();
    // d/dx [x·sg(x)] = sg(x): only the first factor carries a gradient.
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(a, stopGradient(a))))(x);
    expect(Array.from(await g.data())).toEqual(Array.from(await x.data()));
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('conv2dTorch', () => {
  const cases: { name: string; x: number[]; k: number[]; opts: Parameters<typeof conv2dTorch>[2]; pad: ref.Pads2d; stride?: [number, number]; dilation?: [number, number] }[] = [
    { name: 'padding 1', x: [2, 5, 5, 3], k: [3, 3, 3, 4], opts: { padding: 1 }, pad: [[1, 1], [1, 1]] },
    { name: 'stride 2 padding 1 (MAGVIT downsample)', x: [1, 6, 6, 2], k: [3, 3, 2, 3], opts: { stride: 2, padding: 1 }, pad: [[1, 1], [1, 1]], stride: [2, 2] },
    { name: 'padding [ph, pw] and stride [1, 2]', x: [1, 5, 6, 2], k: [3, 2, 2, 2], opts: { padding: [1, 2], stride: [1, 2] }, pad: [[1, 1], [2, 2]], stride: [1, 2] },
    { name: 'asymmetric padding', x: [1, 4, 5, 2], k: [2, 3, 2, 3], opts: { padding: [[0, 1], [2, 0]] }, pad: [[0, 1], [2, 0]] },
    { name: "'same' with an even kernel", x: [1, 5, 4, 2], k: [2, 4, 2, 2], opts: { padding: 'same' }, pad: [[0, 1], [1, 2]] },
    { name: "'valid' patchify (k = s = 2)", x: [2, 4, 4, 3], k: [2, 2, 3, 4], opts: { padding: 'valid', stride: 2 }, pad: [[0, 0], [0, 0]], stride: [2, 2] },
    { name: 'dilation 2 padding 2', x: [1, 6, 6, 2], k: [3, 3, 2, 2], opts: { dilation: 2, padding: 2 }, pad: [[2, 2], [2, 2]], dilation: [2, 2] },
    { name: 'dilation [2, 1] with stride 2', x: [1, 7, 6, 2], k: [3, 2, 2, 2], opts: { dilation: [2, 1], stride: 2, padding: 1 }, pad: [[1, 1], [1, 1]], stride: [2, 2], dilation: [2, 1] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const rr = new RefRandom(c.name.length * 7);
      await checkOp(rr, {
        label: `conv2dTorch ${c.name}`,
        op: (x, w) => conv2dTorch(x, w, c.opts),
        ref: (x, w) => ref.conv2d(x, w, { pad: c.pad, stride: c.stride, dilation: c.dilation }),
        inputs: [rr.array(c.x), rr.array(c.k, 0.5)],
      });
    });
  }
});

describe('causalConv3d', () => {
  it('pads k_t − 1 zero frames before (Open-MAGVIT2) with spatial padding 1', async () => {
    const rr = new RefRandom(20);
    await checkOp(rr, {
      label: 'causalConv3d zeros',
      op: (x, w) => causalConv3d(x, w, { padding: 1 }),
      ref: (x, w) => ref.causalConv3d(x, w, { pad: [[1, 1], [1, 1]] }),
      inputs: [rr.array([1, 3, 4, 4, 2]), rr.array([3, 3, 3, 2, 3], 0.5)],
    });
  });

  it("replicates frame 0 with temporalPadMode 'replicate', stride 2", async () => {
    const rr = new RefRandom(21);
    await checkOp(rr, {
      label: 'causalConv3d replicate',
      op: (x, w) => causalConv3d(x, w, { padding: 1, stride: 2, temporalPadMode: 'replicate' }),
      ref: (x, w) => ref.causalConv3d(x, w, { pad: [[1, 1], [1, 1]], stride: [2, 2, 2], mode: 'replicate' }),
      inputs: [rr.array([2, 3, 4, 4, 2]), rr.array([3, 3, 3, 2, 2], 0.5)],
    });
  });

  it('rectangular input and kernel, two samples, no padding', async () => {
    const rr = new RefRandom(23);
    await checkOp(rr, {
      label: 'causalConv3d rectangular',
      op: (x, w) => causalConv3d(x, w),
      ref: (x, w) => ref.causalConv3d(x, w),
      inputs: [rr.array([2, 2, 3, 4, 2]), rr.array([2, 3, 1, 2, 3], 0.5)],
    });
  });

  it('stride 1×2×2 (spatial down-sampling only), with gradients', async () => {
    const rr = new RefRandom(24);
    await checkOp(rr, {
      label: 'causalConv3d stride 1x2x2',
      op: (x, w) => causalConv3d(x, w, { padding: 1, stride: [1, 2, 2] }),
      ref: (x, w) => ref.causalConv3d(x, w, { pad: [[1, 1], [1, 1]], stride: [1, 2, 2] }),
      inputs: [rr.array([1, 4, 4, 6, 2]), rr.array([3, 3, 3, 2, 2], 0.5)],
    });
  });

  it('an image (a one-frame clip) convolves bit-identically to conv2d with the last temporal tap', async () => {
    const rr = new RefRandom(25);
    const x = toTensor(rr.array([2, 1, 5, 5, 3]));
    const w = toTensor(rr.array([3, 3, 3, 3, 4], 0.5));
    const clip = causalConv3d(x, w, { padding: 1 });
    const image = tf.tidy(() =>
      tf.conv2d(tf.reshape(x, [2, 5, 5, 3]) as tf.Tensor4D, tf.reshape(tf.slice(w, [2, 0, 0, 0, 0], [1, 3, 3, 3, 4]), [3, 3, 3, 4]) as tf.Tensor4D, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]),
    );
    expect(clip.shape).toEqual([2, 1, 5, 5, 4]);
    expect(Array.from(await clip.data())).toEqual(Array.from(await image.data()));
    tf.dispose([x, w, clip, image]);
  });

  it('a later frame never changes an earlier output frame', async () => {
    const rr = new RefRandom(22);
    const a = rr.array([1, 3, 3, 3, 2]);
    const b = { shape: a.shape, data: Float64Array.from(a.data) };
    for (let i = (2 * 9 * 2); i < b.data.length; i++) b.data[i] += 1; // perturb frame 2 only
    const w = toTensor(rr.array([2, 3, 3, 2, 2]));
    const [ya, yb] = [a, b].map((x) => tf.tidy(() => causalConv3d(toTensor(x), w, { padding: 1 })));
    const [da, db] = [await ya.data(), await yb.data()];
    const perFrame = 3 * 3 * 2;
    expect(Array.from(da.slice(0, 2 * perFrame))).toEqual(Array.from(db.slice(0, 2 * perFrame)));
    expect(Array.from(da.slice(2 * perFrame))).not.toEqual(Array.from(db.slice(2 * perFrame)));
    tf.dispose([ya, yb, w]);
  });
});
