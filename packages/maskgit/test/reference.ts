/**
 * A float64 reference of both generators' forward passes, written from the spec (reference §5.2/§5.3),
 * independent of the tfjs code: plain loops over Float64Arrays. Tiny sizes only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@vtok/core';
import type { MaskGITGenerator } from '../src';

export type Params = Record<string, { shape: number[]; data: Float64Array }>;

export async function readParams(model: MaskGITGenerator): Promise<Params> {
  const out: Params = {};
  for (const [name, t] of Object.entries(model.stateDict())) out[name] = { shape: [...t.shape], data: Float64Array.from(await t.data()) };
  return out;
}

/** Parameters at O(1) scale (the golden data's rule): with std 0.02 a layout bug would hide in near-uniform attention. */
export function randomizeParams(model: MaskGITGenerator, seed: number): void {
  const rng = new SeededRandom(seed);
  for (const [name, v] of Object.entries(model.stateDict())) {
    const shape = [...v.shape];
    let value: tf.Tensor;
    if (/(LayerNorm|norm\d?)\.weight$/.test(name)) value = rng.normal(shape, 1, 0.1);
    else if (name.endsWith('bias')) value = rng.normal(shape, 0, 0.1);
    else if (/embeddings|pos_embed/.test(name)) value = rng.normal(shape, 0, 0.5);
    else value = rng.normal(shape, 0, 1 / Math.sqrt(shape[1]));
    (v as tf.Variable).assign(value);
    value.dispose();
  }
}

type Mat = { rows: number; cols: number; data: Float64Array };

function linear(x: Mat, p: Params, prefix: string, bias = true): Mat {
  const w = p[`${prefix}.weight`];
  const [out, inp] = w.shape;
  const y = new Float64Array(x.rows * out);
  for (let r = 0; r < x.rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = bias ? p[`${prefix}.bias`].data[o] : 0;
      for (let i = 0; i < inp; i++) s += x.data[r * inp + i] * w.data[o * inp + i];
      y[r * out + o] = s;
    }
  }
  return { rows: x.rows, cols: out, data: y };
}

function layerNorm(x: Mat, p: Params, prefix: string, eps: number): Mat {
  const y = new Float64Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    const row = x.data.subarray(r * x.cols, (r + 1) * x.cols);
    const mean = row.reduce((a, b) => a + b, 0) / x.cols;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / x.cols;
    for (let c = 0; c < x.cols; c++) {
      y[r * x.cols + c] = ((row[c] - mean) / Math.sqrt(variance + eps)) * p[`${prefix}.weight`].data[c] + p[`${prefix}.bias`].data[c];
    }
  }
  return { ...x, data: y };
}

/** erf by its Taylor series / continued fraction, accurate to ~1e-15 in double. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const gelu = (x: Mat): Mat => ({ ...x, data: x.data.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))) });
const add = (a: Mat, b: Mat): Mat => ({ ...a, data: a.data.map((v, i) => v + b.data[i]) });

/** Attention over one sequence (rows = positions); q, k, v column blocks given by offsets into `qkv`-like matrices. */
function attention(q: Mat, k: Mat, v: Mat, heads: number): Mat {
  const n = q.rows;
  const h = q.cols;
  const d = h / heads;
  const out = new Float64Array(n * h);
  for (let head = 0; head < heads; head++) {
    for (let i = 0; i < n; i++) {
      const scores = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q.data[i * h + head * d + c] * k.data[j * h + head * d + c];
        scores[j] = s / Math.sqrt(d);
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += (e[j] / z) * v.data[j * h + head * d + c];
        out[i * h + head * d + c] = s;
      }
    }
  }
  return { rows: n, cols: h, data: out };
}

const columns = (x: Mat, from: number, count: number): Mat => {
  const y = new Float64Array(x.rows * count);
  for (let r = 0; r < x.rows; r++) for (let c = 0; c < count; c++) y[r * count + c] = x.data[r * x.cols + from + c];
  return { rows: x.rows, cols: count, data: y };
};
const concatColumns = (a: Mat, b: Mat): Mat => {
  const y = new Float64Array(a.rows * (a.cols + b.cols));
  for (let r = 0; r < a.rows; r++) {
    y.set(a.data.subarray(r * a.cols, (r + 1) * a.cols), r * (a.cols + b.cols));
    y.set(b.data.subarray(r * b.cols, (r + 1) * b.cols), r * (a.cols + b.cols) + a.cols);
  }
  return { rows: a.rows, cols: a.cols + b.cols, data: y };
};
const dropFirstRow = (x: Mat): Mat => ({ rows: x.rows - 1, cols: x.cols, data: x.data.slice(x.cols) });

function uvitBlock(x: Mat, p: Params, prefix: string, heads: number, skip?: Mat): Mat {
  if (skip) x = linear(concatColumns(x, skip), p, `${prefix}.skip_linear`);
  const h = x.cols;
  const qkv = linear(layerNorm(x, p, `${prefix}.norm1`, 1e-5), p, `${prefix}.attn.qkv`, false);
  const attn = attention(columns(qkv, 0, h), columns(qkv, h, h), columns(qkv, 2 * h, h), heads);
  x = add(x, linear(attn, p, `${prefix}.attn.proj`));
  return add(x, linear(gelu(linear(layerNorm(x, p, `${prefix}.norm2`, 1e-5), p, `${prefix}.mlp.fc1`)), p, `${prefix}.mlp.fc2`));
}

/** UViTBert.forward for one sequence of ids (condition first) → logits [L, K]. */
export function uvitReference(p: Params, ids: number[], heads: number, layers: number): Float64Array {
  const h = p['embeddings.weight'].shape[1];
  const x0 = new Float64Array(ids.length * h);
  ids.forEach((id, i) => {
    for (let c = 0; c < h; c++) x0[i * h + c] = p['embeddings.weight'].data[id * h + c] + p['pos_embed'].data[i * h + c];
  });
  let x: Mat = { rows: ids.length, cols: h, data: x0 };
  const skips: Mat[] = [];
  for (let i = 0; i < layers / 2; i++) {
    x = uvitBlock(x, p, `in_blocks.${i}`, heads);
    skips.push(x);
  }
  x = uvitBlock(x, p, 'mid_block', heads);
  for (let i = 0; i < layers / 2; i++) x = uvitBlock(x, p, `out_blocks.${i}`, heads, skips.pop());
  return linear(dropFirstRow(layerNorm(x, p, 'norm', 1e-5)), p, 'lm_head').data;
}

/** ImageBert.forward (HF BERT, post-LN, eps 1e-12) for one sequence → logits [L, K]. */
export function bertReference(p: Params, ids: number[], heads: number, layers: number): Float64Array {
  const w = p['model.embeddings.word_embeddings.weight'];
  const h = w.shape[1];
  const x0 = new Float64Array(ids.length * h);
  ids.forEach((id, i) => {
    for (let c = 0; c < h; c++) {
      x0[i * h + c] =
        w.data[id * h + c] + p['model.embeddings.position_embeddings.weight'].data[i * h + c] + p['model.embeddings.token_type_embeddings.weight'].data[c];
    }
  });
  let x = layerNorm({ rows: ids.length, cols: h, data: x0 }, p, 'model.embeddings.LayerNorm', 1e-12);
  for (let i = 0; i < layers; i++) {
    const pre = `model.encoder.layer.${i}`;
    const ctx = attention(linear(x, p, `${pre}.attention.self.query`), linear(x, p, `${pre}.attention.self.key`), linear(x, p, `${pre}.attention.self.value`), heads);
    const a = layerNorm(add(linear(ctx, p, `${pre}.attention.output.dense`), x), p, `${pre}.attention.output.LayerNorm`, 1e-12);
    x = layerNorm(add(linear(gelu(linear(a, p, `${pre}.intermediate.dense`)), p, `${pre}.output.dense`), a), p, `${pre}.output.LayerNorm`, 1e-12);
  }
  return linear(dropFirstRow(x), p, 'model.lm_head').data;
}
