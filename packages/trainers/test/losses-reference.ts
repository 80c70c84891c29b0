/**
 * Float64 references of the discriminators and LPIPS, written as the official PyTorch modules compute them:
 * NCHW arrays, torch weight layouts ([O, I, kh, kw]) and the official state-dict names, in plain loops,
 * independent of the implementations under test. Also the random official-layout state dicts they read.
 */
import type { RawTensorInput } from '@vtok/core';
import { prng } from '@vtok/test-utils';

/** A float64 NCHW (or any) array. */
export interface Arr {
  shape: number[];
  data: Float64Array;
}

export type Params = Record<string, Arr>;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Seeded values N(mean, std²) rounded to float32, as an array of `shape`. */
export function randomArr(shape: number[], seed: number, std = 1, mean = 0): Arr {
  const r = prng(seed);
  return { shape, data: Float64Array.from({ length: size(shape) }, () => Math.fround(mean + std * r.normal())) };
}

/** A state dict written as float32 tensors for core's safetensors writer. */
export function toRaw(params: Params): Record<string, RawTensorInput> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { dtype: 'float32', shape: v.shape, data: Float32Array.from(v.data) }]));
}

/** F.conv2d with zero padding [top, bottom, left, right] and `groups`. */
export function conv2d(x: Arr, w: Arr, b: Arr | undefined, stride: number, pad: [number, number, number, number], groups = 1): Arr {
  const [N, C, H, W] = x.shape;
  const [O, I, kh, kw] = w.shape;
  const [pt, pb, pl, pr] = pad;
  const Ho = Math.floor((H + pt + pb - kh) / stride) + 1;
  const Wo = Math.floor((W + pl + pr - kw) / stride) + 1;
  const out = new Float64Array(N * O * Ho * Wo);
  const perGroup = O / groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / perGroup);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = b ? b.data[o] : 0;
          for (let c = 0; c < I; c++) {
            const ci = g * I + c;
            for (let u = 0; u < kh; u++) {
              const y = i * stride + u - pt;
              if (y < 0 || y >= H) continue;
              for (let v = 0; v < kw; v++) {
                const xx = j * stride + v - pl;
                if (xx < 0 || xx >= W) continue;
                s += x.data[((n * C + ci) * H + y) * W + xx] * w.data[((o * I + c) * kh + u) * kw + v];
              }
            }
          }
          out[((n * O + o) * Ho + i) * Wo + j] = s;
        }
    }
  return { shape: [N, O, Ho, Wo], data: out };
}

/** Conv2dSame / padding 'same' at stride 1: (k − 1) split with the smaller half first. */
export const samePad = (k: number): [number, number, number, number] => {
  const a = Math.floor((k - 1) / 2);
  return [a, k - 1 - a, a, k - 1 - a];
};

export const map = (x: Arr, f: (v: number) => number): Arr => ({ shape: x.shape, data: x.data.map(f) });
export const leaky = (x: Arr, slope: number) => map(x, (v) => (v > 0 ? v : slope * v));
export const relu = (x: Arr) => map(x, (v) => Math.max(0, v));

/** torch.nn.GroupNorm (biased variance). */
export function groupNorm(x: Arr, groups: number, weight: Arr, bias: Arr, eps = 1e-5): Arr {
  const [N, C, H, W] = x.shape;
  const per = C / groups;
  const out = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++)
    for (let g = 0; g < groups; g++) {
      const start = (n * C + g * per) * H * W;
      const count = per * H * W;
      let mean = 0;
      for (let i = 0; i < count; i++) mean += x.data[start + i];
      mean /= count;
      let v = 0;
      for (let i = 0; i < count; i++) v += (x.data[start + i] - mean) ** 2;
      v /= count;
      for (let i = 0; i < count; i++) {
        const c = g * per + Math.floor(i / (H * W));
        out[start + i] = ((x.data[start + i] - mean) / Math.sqrt(v + eps)) * weight.data[c] + bias.data[c];
      }
    }
  return { shape: x.shape, data: out };
}

/** Max or average over windows [r0, r1) × [c0, c1) chosen per output cell. */
function pool(x: Arr, Ho: number, Wo: number, win: (i: number, j: number) => [number, number, number, number], kind: 'max' | 'avg'): Arr {
  const [N, C, H, W] = x.shape;
  const out = new Float64Array(N * C * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const [r0, r1, c0, c1] = win(i, j);
          let acc = kind === 'max' ? -Infinity : 0;
          for (let r = r0; r < r1; r++)
            for (let q = c0; q < c1; q++) {
              const v = x.data[((n * C + c) * H + r) * W + q];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            }
          out[((n * C + c) * Ho + i) * Wo + j] = kind === 'max' ? acc : acc / ((r1 - r0) * (c1 - c0));
        }
  return { shape: [N, C, Ho, Wo], data: out };
}

export const maxPool2 = (x: Arr) => pool(x, Math.floor(x.shape[2] / 2), Math.floor(x.shape[3] / 2), (i, j) => [2 * i, 2 * i + 2, 2 * j, 2 * j + 2], 'max');
export const avgPool2 = (x: Arr) => pool(x, Math.floor(x.shape[2] / 2), Math.floor(x.shape[3] / 2), (i, j) => [2 * i, 2 * i + 2, 2 * j, 2 * j + 2], 'avg');

/** torch.nn.AdaptiveMaxPool2d. */
export function adaptiveMaxPool(x: Arr, oh: number, ow: number): Arr {
  const [, , H, W] = x.shape;
  return pool(x, oh, ow, (i, j) => [Math.floor((i * H) / oh), Math.ceil(((i + 1) * H) / oh), Math.floor((j * W) / ow), Math.ceil(((j + 1) * W) / ow)], 'max');
}

/** 1d-tokenizer's BlurBlock: TF-same padding of a 4-tap stride-2 filter, then the depthwise blur. */
export function blur(x: Arr, kernel: Arr): Arr {
  const [, C, H, W] = x.shape;
  const padOf = (i: number) => Math.max((Math.ceil(i / 2) - 1) * 2 + 4 - i, 0);
  const ph = padOf(H);
  const pw = padOf(W);
  const k = kernel.shape[3];
  const w: Arr = { shape: [C, 1, k, k], data: new Float64Array(C * k * k) };
  for (let c = 0; c < C; c++) w.data.set(kernel.data, c * k * k);
  return conv2d(x, w, undefined, 2, [Math.floor(ph / 2), ph - Math.floor(ph / 2), Math.floor(pw / 2), pw - Math.floor(pw / 2)], C);
}

// ---------------------------------------------------------------------------------------------------
// The networks

export interface NLayerShape {
  inChannels: number;
  hidden: number;
  stages: number;
  groups: number;
  pool: number;
  blurTaps?: readonly number[];
}

/** 1d-tokenizer's NLayerDiscriminator state dict (official names, torch layouts), random. */
export function nlayerParams(s: NLayerShape, seed: number): Params {
  const p: Params = {};
  let k = seed;
  const conv = (name: string, o: number, i: number, kk: number) => {
    p[`${name}.weight`] = randomArr([o, i, kk, kk], k++, 1 / Math.sqrt(i * kk * kk));
    p[`${name}.bias`] = randomArr([o], k++, 0.1);
  };
  conv('block_in.0', s.hidden, s.inChannels, 5);
  let c = s.hidden;
  const taps = s.blurTaps ?? [1, 3, 3, 1];
  const outer = taps.flatMap((a) => taps.map((b) => a * b));
  const sum = outer.reduce((a, b) => a + b, 0);
  for (let i = 0; i < s.stages; i++) {
    const out = s.hidden * 2 ** i;
    conv(`blocks.${i}.0`, out, c, 3);
    p[`blocks.${i}.1.kernel`] = { shape: [1, 1, taps.length, taps.length], data: Float64Array.from(outer, (v) => Math.fround(v / sum)) };
    p[`blocks.${i}.2.weight`] = randomArr([out], k++, 0.1, 1);
    p[`blocks.${i}.2.bias`] = randomArr([out], k++, 0.1);
    c = out;
  }
  conv('to_logits.0', c, c, 1);
  conv('to_logits.2', 1, c, 5);
  return p;
}

export function nlayerForward(p: Params, s: NLayerShape, x: Arr): Arr {
  let h = leaky(conv2d(x, p['block_in.0.weight'], p['block_in.0.bias'], 1, samePad(5)), 0.1);
  for (let i = 0; i < s.stages; i++) {
    h = conv2d(h, p[`blocks.${i}.0.weight`], p[`blocks.${i}.0.bias`], 1, samePad(3));
    h = blur(h, p[`blocks.${i}.1.kernel`]);
    h = leaky(groupNorm(h, s.groups, p[`blocks.${i}.2.weight`], p[`blocks.${i}.2.bias`]), 0.1);
  }
  h = adaptiveMaxPool(h, s.pool, s.pool);
  h = leaky(conv2d(h, p['to_logits.0.weight'], p['to_logits.0.bias'], 1, samePad(1)), 0.1);
  return conv2d(h, p['to_logits.2.weight'], p['to_logits.2.bias'], 1, samePad(5));
}

export interface PatchGanShape {
  inChannels: number;
  ndf: number;
  nLayers: number;
  groups: number;
}

/** taming's NLayerDiscriminator state dict with BatchNorm's entries (running statistics included), random. */
export function patchGanParams(s: PatchGanShape, seed: number): Params {
  const p: Params = {};
  let k = seed;
  let index = 0;
  const block = (cin: number, cout: number, norm: boolean, bias: boolean) => {
    p[`main.${index}.weight`] = randomArr([cout, cin, 4, 4], k++, 1 / Math.sqrt(cin * 16));
    if (bias) p[`main.${index}.bias`] = randomArr([cout], k++, 0.1);
    if (norm) {
      p[`main.${index + 1}.weight`] = randomArr([cout], k++, 0.1, 1);
      p[`main.${index + 1}.bias`] = randomArr([cout], k++, 0.1);
      p[`main.${index + 1}.running_mean`] = randomArr([cout], k++, 0.1);
      p[`main.${index + 1}.running_var`] = map(randomArr([cout], k++, 0.1), (v) => 1 + Math.abs(v));
    }
    index += norm ? 3 : 2;
  };
  block(s.inChannels, s.ndf, false, true);
  let c = s.ndf;
  for (let n = 1; n <= s.nLayers; n++) {
    const out = s.ndf * Math.min(2 ** n, 8);
    block(c, out, true, false);
    c = out;
  }
  block(c, 1, false, true);
  return p;
}

/** The PatchGAN with GroupNorm(groups) where the official has BatchNorm2d (what the implementation does). */
export function patchGanForward(p: Params, s: PatchGanShape, x: Arr): Arr {
  let h = x;
  let index = 0;
  const total = s.nLayers + 2;
  for (let layer = 0; layer < total; layer++) {
    const norm = layer > 0 && layer < total - 1;
    const stride = layer < s.nLayers ? 2 : 1;
    h = conv2d(h, p[`main.${index}.weight`], p[`main.${index}.bias`], stride, [1, 1, 1, 1]);
    if (norm) h = groupNorm(h, s.groups, p[`main.${index + 1}.weight`], p[`main.${index + 1}.bias`]);
    if (layer < total - 1) h = leaky(h, 0.2);
    index += norm ? 3 : 2;
  }
  return h;
}

/** The official LPIPS state dict for stage widths `ch` (net.slice*, lin*, and the ScalingLayer buffers), random. */
export function lpipsParams(ch: readonly number[], seed: number): Params {
  const p: Params = {};
  let k = seed;
  const slices = [[0, 2], [5, 7], [10, 12, 14], [17, 19, 21], [24, 26, 28]];
  let cin = 3;
  slices.forEach((convs, s) => {
    for (const i of convs) {
      p[`net.slice${s + 1}.${i}.weight`] = randomArr([ch[s], cin, 3, 3], k++, Math.sqrt(2 / (cin * 9)));
      p[`net.slice${s + 1}.${i}.bias`] = randomArr([ch[s]], k++, 0.05);
      cin = ch[s];
    }
  });
  // Trained lin weights are non-negative; |N(0, 0.1)| keeps that.
  ch.forEach((c, l) => (p[`lin${l}.model.1.weight`] = map(randomArr([1, c, 1, 1], k++, 0.1), Math.abs)));
  p['scaling_layer.shift'] = { shape: [1, 3, 1, 1], data: Float64Array.from([-0.03, -0.088, -0.188], Math.fround) };
  p['scaling_layer.scale'] = { shape: [1, 3, 1, 1], data: Float64Array.from([0.458, 0.448, 0.45], Math.fround) };
  return p;
}

/** lpips.LPIPS(net='vgg').forward(x, y) per sample, for NCHW inputs in [-1, 1]. */
export function lpipsForward(p: Params, x: Arr, y: Arr): number[] {
  const slices = [[0, 2], [5, 7], [10, 12, 14], [17, 19, 21], [24, 26, 28]];
  const trunk = (input: Arr): Arr[] => {
    const shift = [-0.03, -0.088, -0.188];
    const scale = [0.458, 0.448, 0.45];
    const [, , H, W] = input.shape;
    let h: Arr = { shape: input.shape, data: input.data.map((v, i) => (v - shift[Math.floor(i / (H * W)) % 3]) / scale[Math.floor(i / (H * W)) % 3]) };
    return slices.map((convs, s) => {
      if (s > 0) h = maxPool2(h);
      for (const i of convs) h = relu(conv2d(h, p[`net.slice${s + 1}.${i}.weight`], p[`net.slice${s + 1}.${i}.bias`], 1, [1, 1, 1, 1]));
      return h;
    });
  };
  const fx = trunk(x);
  const fy = trunk(y);
  const N = x.shape[0];
  const out = new Array<number>(N).fill(0);
  fx.forEach((a, l) => {
    const b = fy[l];
    const [, C, H, W] = a.shape;
    const w = p[`lin${l}.model.1.weight`].data;
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let q = 0; q < H * W; q++) {
        let na = 0;
        let nb = 0;
        for (let c = 0; c < C; c++) {
          na += a.data[(n * C + c) * H * W + q] ** 2;
          nb += b.data[(n * C + c) * H * W + q] ** 2;
        }
        na = Math.sqrt(na) + 1e-10;
        nb = Math.sqrt(nb) + 1e-10;
        for (let c = 0; c < C; c++) acc += w[c] * (a.data[(n * C + c) * H * W + q] / na - b.data[(n * C + c) * H * W + q] / nb) ** 2;
      }
      out[n] += acc / (H * W);
    }
  });
  return out;
}
