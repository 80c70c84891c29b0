/**
 * Float64 reference implementations written as plain loops over indices, straight from the
 * definitions (PyTorch's documented semantics), sharing no code with src/.
 */
import * as M from './math';
import { type NDArray, map, offset, sizeOf, unravel, zeros } from './ndarray';

export const gelu = (x: NDArray): NDArray => map(x, M.gelu);
export const silu = (x: NDArray): NDArray => map(x, M.silu);

/** a [m,k] · b [k,n]. */
export function matmul(a: NDArray, b: NDArray): NDArray {
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) throw new Error('matmul: inner dimensions differ');
  const out = zeros([m, n]);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p] * b.data[p * n + j];
      out.data[i * n + j] = s;
    }
  return out;
}

/** torch.nn.functional.linear: x [..., in], w [out, in], b [out] → [..., out]. */
export function linear(x: NDArray, w: NDArray, b?: NDArray): NDArray {
  const [outF, inF] = w.shape;
  const rows = x.data.length / inF;
  const out = zeros([...x.shape.slice(0, -1), outF]);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b.data[o] : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * w.data[o * inF + i];
      out.data[r * outF + o] = s;
    }
  return out;
}

/** Biased-variance normalisation over the last axis. */
export function layerNorm(x: NDArray, gamma: NDArray | undefined, beta: NDArray | undefined, eps: number): NDArray {
  const c = x.shape[x.shape.length - 1];
  const rows = x.data.length / c;
  const out = zeros(x.shape);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < c; i++) mean += x.data[r * c + i];
    mean /= c;
    let v = 0;
    for (let i = 0; i < c; i++) v += (x.data[r * c + i] - mean) ** 2;
    v /= c;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < c; i++) {
      const n = (x.data[r * c + i] - mean) * inv;
      out.data[r * c + i] = n * (gamma ? gamma.data[i] : 1) + (beta ? beta.data[i] : 0);
    }
  }
  return out;
}

/** torch.nn.functional.group_norm moved to channels-last: x [B, ...spatial, C], contiguous channel groups. */
export function groupNorm(x: NDArray, groups: number, gamma: NDArray | undefined, beta: NDArray | undefined, eps: number): NDArray {
  const b = x.shape[0];
  const c = x.shape[x.shape.length - 1];
  const s = x.data.length / (b * c);
  const cg = c / groups;
  const out = zeros(x.shape);
  for (let n = 0; n < b; n++)
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let p = 0; p < s; p++) for (let ch = g * cg; ch < (g + 1) * cg; ch++) idx.push((n * s + p) * c + ch);
      let mean = 0;
      for (const i of idx) mean += x.data[i];
      mean /= idx.length;
      let v = 0;
      for (const i of idx) v += (x.data[i] - mean) ** 2;
      v /= idx.length;
      const inv = 1 / Math.sqrt(v + eps);
      for (const i of idx) {
        const ch = i % c;
        out.data[i] = (x.data[i] - mean) * inv * (gamma ? gamma.data[ch] : 1) + (beta ? beta.data[ch] : 0);
      }
    }
  return out;
}

/**
 * GroupNorm with causal statistics over frames: x [B, T, ...spatial, C]; frame t of sample b is
 * normalised with the mean and biased variance of (frames 0..t, every spatial position, the group's
 * channels), straight from the definition.
 */
export function causalGroupNorm(x: NDArray, groups: number, gamma: NDArray | undefined, beta: NDArray | undefined, eps: number): NDArray {
  const [b, t] = x.shape;
  const c = x.shape[x.shape.length - 1];
  const s = x.data.length / (b * t * c);
  const cg = c / groups;
  const out = zeros(x.shape);
  const at = (n: number, f: number, p: number, ch: number) => ((n * t + f) * s + p) * c + ch;
  for (let n = 0; n < b; n++)
    for (let g = 0; g < groups; g++)
      for (let f = 0; f < t; f++) {
        let sum = 0;
        let count = 0;
        for (let f2 = 0; f2 <= f; f2++) for (let p = 0; p < s; p++) for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
          sum += x.data[at(n, f2, p, ch)];
          count++;
        }
        const mean = sum / count;
        let v = 0;
        for (let f2 = 0; f2 <= f; f2++) for (let p = 0; p < s; p++) for (let ch = g * cg; ch < (g + 1) * cg; ch++) v += (x.data[at(n, f2, p, ch)] - mean) ** 2;
        const inv = 1 / Math.sqrt(v / count + eps);
        for (let p = 0; p < s; p++) for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
          const i = at(n, f, p, ch);
          out.data[i] = (x.data[i] - mean) * inv * (gamma ? gamma.data[ch] : 1) + (beta ? beta.data[ch] : 0);
        }
      }
  return out;
}

export type Pads2d = [[number, number], [number, number]];

/** Direct convolution: x [B,H,W,Ci], w [kh,kw,Ci,Co] (HWIO), zero padding per side, stride, dilation. */
export function conv2d(
  x: NDArray,
  w: NDArray,
  opts: { stride?: [number, number]; pad?: Pads2d; dilation?: [number, number]; bias?: NDArray } = {},
): NDArray {
  const [B, H, W, Ci] = x.shape;
  const [kh, kw, ci2, Co] = w.shape;
  if (Ci !== ci2) throw new Error('conv2d: channel mismatch');
  const [sh, sw] = opts.stride ?? [1, 1];
  const [[pt, pb], [pl, pr]] = opts.pad ?? [[0, 0], [0, 0]];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const Ho = Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const out = zeros([B, Ho, Wo, Co]);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let co = 0; co < Co; co++) {
          let s = opts.bias ? opts.bias.data[co] : 0;
          for (let i = 0; i < kh; i++) {
            const ih = oh * sh - pt + i * dh;
            if (ih < 0 || ih >= H) continue;
            for (let j = 0; j < kw; j++) {
              const iw = ow * sw - pl + j * dw;
              if (iw < 0 || iw >= W) continue;
              for (let c = 0; c < Ci; c++) s += x.data[((b * H + ih) * W + iw) * Ci + c] * w.data[((i * kw + j) * Ci + c) * Co + co];
            }
          }
          out.data[((b * Ho + oh) * Wo + ow) * Co + co] = s;
        }
  return out;
}

/**
 * Causal 3D convolution: x [B,T,H,W,Ci], w [kt,kh,kw,Ci,Co]. Output frame ot reads input frames
 * ot·st − (kt−1) + a; frames before 0 are zeros or copies of frame 0.
 */
export function causalConv3d(
  x: NDArray,
  w: NDArray,
  opts: { stride?: [number, number, number]; pad?: Pads2d; mode?: 'zeros' | 'replicate'; bias?: NDArray } = {},
): NDArray {
  const [B, T, H, W, Ci] = x.shape;
  const [kt, kh, kw, , Co] = w.shape;
  const [st, sh, sw] = opts.stride ?? [1, 1, 1];
  const [[pt, pb], [pl, pr]] = opts.pad ?? [[0, 0], [0, 0]];
  const mode = opts.mode ?? 'zeros';
  const To = Math.floor((T - 1) / st) + 1;
  const Ho = Math.floor((H + pt + pb - kh) / sh) + 1;
  const Wo = Math.floor((W + pl + pr - kw) / sw) + 1;
  const out = zeros([B, To, Ho, Wo, Co]);
  for (let b = 0; b < B; b++)
    for (let ot = 0; ot < To; ot++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++)
          for (let co = 0; co < Co; co++) {
            let s = opts.bias ? opts.bias.data[co] : 0;
            for (let a = 0; a < kt; a++) {
              let it = ot * st - (kt - 1) + a;
              if (it < 0) {
                if (mode === 'zeros') continue;
                it = 0;
              }
              for (let i = 0; i < kh; i++) {
                const ih = oh * sh - pt + i;
                if (ih < 0 || ih >= H) continue;
                for (let j = 0; j < kw; j++) {
                  const iw = ow * sw - pl + j;
                  if (iw < 0 || iw >= W) continue;
                  for (let c = 0; c < Ci; c++) {
                    s += x.data[(((b * T + it) * H + ih) * W + iw) * Ci + c] * w.data[(((a * kh + i) * kw + j) * Ci + c) * Co + co];
                  }
                }
              }
            }
            out.data[(((b * To + ot) * Ho + oh) * Wo + ow) * Co + co] = s;
          }
  return out;
}

export interface RefMask {
  shape: number[];
  data: Float64Array;
  kind: 'bool' | 'float';
}

/** Value of a mask broadcast (numpy rules) to `fullShape` at `index`. */
function maskAt(mask: RefMask, fullShape: number[], index: number[]): number {
  const off = fullShape.length - mask.shape.length;
  const idx = mask.shape.map((d, i) => (d === 1 ? 0 : index[off + i]));
  return mask.data[offset(mask.shape, idx)];
}

/**
 * softmax(q·kᵀ·scale + mask)·v over leading dims; bool masks keep where nonzero (dropped scores get
 * −1e9, as the op documents), float masks add.
 */
export function attention(q: NDArray, k: NDArray, v: NDArray, opts: { mask?: RefMask; scale?: number } = {}): NDArray {
  const lead = q.shape.slice(0, -2);
  const [nq, d] = q.shape.slice(-2);
  const nk = k.shape[k.shape.length - 2];
  const dv = v.shape[v.shape.length - 1];
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const batches = sizeOf(lead);
  const out = zeros([...lead, nq, dv]);
  const scoreShape = [...lead, nq, nk];
  for (let bt = 0; bt < batches; bt++) {
    const leadIdx = unravel(lead, bt);
    for (let i = 0; i < nq; i++) {
      const scores = new Float64Array(nk);
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let p = 0; p < d; p++) s += q.data[(bt * nq + i) * d + p] * k.data[(bt * nk + j) * d + p];
        s *= scale;
        if (opts.mask) {
          const m = maskAt(opts.mask, scoreShape, [...leadIdx, i, j]);
          s = opts.mask.kind === 'bool' ? (m ? s : -1e9) : s + m;
        }
        scores[j] = s;
      }
      const mx = Math.max(...scores);
      let z = 0;
      for (let j = 0; j < nk; j++) z += Math.exp(scores[j] - mx);
      for (let e = 0; e < dv; e++) {
        let s = 0;
        for (let j = 0; j < nk; j++) s += (Math.exp(scores[j] - mx) / z) * v.data[(bt * nk + j) * dv + e];
        out.data[(bt * nq + i) * dv + e] = s;
      }
    }
  }
  return out;
}

export type Order = 'tf' | 'torch';

/** Input channel of output channel c at block offset (a, i, j), block (bt, bs), C output channels. */
function blockChannel(order: Order, c: number, C: number, a: number, i: number, j: number, bt: number, bs: number): number {
  const sub = (a * bs + i) * bs + j;
  return order === 'tf' ? sub * C + c : c * bt * bs * bs + sub;
}

/** out[b, t·bt+a, h·bs+i, w·bs+j, c] = x[b, t, h, w, blockChannel(...)]; 2D is the bt = 1 case without T. */
export function depthToSpace3d(x: NDArray, bt: number, bs: number, order: Order): NDArray {
  const [B, T, H, W, Cin] = x.shape;
  const C = Cin / (bt * bs * bs);
  const out = zeros([B, T * bt, H * bs, W * bs, C]);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++)
          for (let a = 0; a < bt; a++)
            for (let i = 0; i < bs; i++)
              for (let j = 0; j < bs; j++)
                for (let c = 0; c < C; c++) {
                  const src = offset(x.shape, [b, t, h, w, blockChannel(order, c, C, a, i, j, bt, bs)]);
                  const dst = offset(out.shape, [b, t * bt + a, h * bs + i, w * bs + j, c]);
                  out.data[dst] = x.data[src];
                }
  return out;
}

export function spaceToDepth3d(x: NDArray, bt: number, bs: number, order: Order): NDArray {
  const [B, TS, HS, WS, C] = x.shape;
  const [T, H, W] = [TS / bt, HS / bs, WS / bs];
  const out = zeros([B, T, H, W, C * bt * bs * bs]);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++)
          for (let a = 0; a < bt; a++)
            for (let i = 0; i < bs; i++)
              for (let j = 0; j < bs; j++)
                for (let c = 0; c < C; c++) {
                  const src = offset(x.shape, [b, t * bt + a, h * bs + i, w * bs + j, c]);
                  const dst = offset(out.shape, [b, t, h, w, blockChannel(order, c, C, a, i, j, bt, bs)]);
                  out.data[dst] = x.data[src];
                }
  return out;
}

const as5d = (x: NDArray): NDArray => ({ shape: [x.shape[0], 1, ...x.shape.slice(1)], data: x.data });
const as4d = (x: NDArray): NDArray => ({ shape: [x.shape[0], ...x.shape.slice(2)], data: x.data });
export const depthToSpace2d = (x: NDArray, bs: number, order: Order): NDArray => as4d(depthToSpace3d(as5d(x), 1, bs, order));
export const spaceToDepth2d = (x: NDArray, bs: number, order: Order): NDArray => as4d(spaceToDepth3d(as5d(x), 1, bs, order));

