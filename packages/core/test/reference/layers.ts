/**
 * Float64 references for the composite layers, taking parameters by their PyTorch state-dict
 * names. Heads are split with explicit index arithmetic, not reshapes.
 */
import { type NDArray, add, zeros } from './ndarray';
import { type RefMask, attention, gelu, layerNorm, linear } from './ops';

export type Params = Record<string, NDArray>;

/** Rows [from, to) of a [R, C] matrix, or entries of a vector. */
function rows(a: NDArray, from: number, to: number): NDArray {
  const c = a.shape.length === 2 ? a.shape[1] : 1;
  const shape = a.shape.length === 2 ? [to - from, c] : [to - from];
  return { shape, data: a.data.slice(from * c, to * c) };
}

/** [B, N, E] → [B, heads, N, E/heads]: head h takes channels [h·dh, (h+1)·dh). */
function heads(x: NDArray, numHeads: number): NDArray {
  const [B, N, E] = x.shape;
  const dh = E / numHeads;
  const out = zeros([B, numHeads, N, dh]);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < numHeads; h++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < dh; d++) out.data[((b * numHeads + h) * N + n) * dh + d] = x.data[(b * N + n) * E + h * dh + d];
  return out;
}

function unheads(x: NDArray): NDArray {
  const [B, H, N, dh] = x.shape;
  const out = zeros([B, N, H * dh]);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < dh; d++) out.data[(b * N + n) * H * dh + h * dh + d] = x.data[((b * H + h) * N + n) * dh + d];
  return out;
}

/** nn.MultiheadAttention (batch first) with in_proj_weight/in_proj_bias/out_proj.{weight,bias}; prefix selects the module. */
export function multiheadAttention(
  query: NDArray,
  key: NDArray,
  value: NDArray,
  p: Params,
  numHeads: number,
  opts: { prefix?: string; mask?: RefMask } = {},
): NDArray {
  const pre = opts.prefix ?? '';
  const E = query.shape[2];
  const w = p[`${pre}in_proj_weight`];
  const b = p[`${pre}in_proj_bias`];
  const q = linear(query, rows(w, 0, E), b && rows(b, 0, E));
  const k = linear(key, rows(w, E, 2 * E), b && rows(b, E, 2 * E));
  const v = linear(value, rows(w, 2 * E, 3 * E), b && rows(b, 2 * E, 3 * E));
  const o = attention(heads(q, numHeads), heads(k, numHeads), heads(v, numHeads), { mask: opts.mask });
  return linear(unheads(o), p[`${pre}out_proj.weight`], p[`${pre}out_proj.bias`]);
}

export function mlp(x: NDArray, p: Params, prefix = '', names: [string, string] = ['c_fc', 'c_proj'], act: (x: NDArray) => NDArray = gelu): NDArray {
  const h = act(linear(x, p[`${prefix}${names[0]}.weight`], p[`${prefix}${names[0]}.bias`]));
  return linear(h, p[`${prefix}${names[1]}.weight`], p[`${prefix}${names[1]}.bias`]);
}

/** TiTok's ResidualAttentionBlock: x + attn(ln_1(x)); then + mlp(ln_2(x)). */
export function residualAttentionBlock(x: NDArray, p: Params, numHeads: number, eps = 1e-5, mask?: RefMask): NDArray {
  const h = layerNorm(x, p['ln_1.weight'], p['ln_1.bias'], eps);
  const y = add(x, multiheadAttention(h, h, h, p, numHeads, { prefix: 'attn.', mask }));
  return add(y, mlp(layerNorm(y, p['ln_2.weight'], p['ln_2.bias'], eps), p, 'mlp.'));
}

/** Multi-head attention from explicit q, k, v and output weights (any storage layout), heads contiguous. */
export function attentionFromWeights(
  query: NDArray,
  key: NDArray,
  value: NDArray,
  w: { q: NDArray; k: NDArray; v: NDArray; qb?: NDArray; kb?: NDArray; vb?: NDArray; out: NDArray; outb?: NDArray },
  numHeads: number,
): NDArray {
  const q = linear(query, w.q, w.qb);
  const k = linear(key, w.k, w.kb);
  const v = linear(value, w.v, w.vb);
  const o = attention(heads(q, numHeads), heads(k, numHeads), heads(v, numHeads));
  return linear(unheads(o), w.out, w.outb);
}

/** A packed [3E, E] weight (and [3E] bias) as its q, k, v thirds. */
export function thirds(w: NDArray, b?: NDArray): { q: NDArray; k: NDArray; v: NDArray; qb?: NDArray; kb?: NDArray; vb?: NDArray } {
  const e = w.shape[1];
  return {
    q: rows(w, 0, e),
    k: rows(w, e, 2 * e),
    v: rows(w, 2 * e, 3 * e),
    qb: b && rows(b, 0, e),
    kb: b && rows(b, e, 2 * e),
    vb: b && rows(b, 2 * e, 3 * e),
  };
}

/** timm/U-ViT pre-norm block: qkv without bias, proj, fc1/fc2. */
export function timmBlock(x: NDArray, p: Params, numHeads: number, eps: number): NDArray {
  const h = layerNorm(x, p['norm1.weight'], p['norm1.bias'], eps);
  const w = { ...thirds(p['attn.qkv.weight'], p['attn.qkv.bias']), out: p['attn.proj.weight'], outb: p['attn.proj.bias'] };
  const y = add(x, attentionFromWeights(h, h, h, w, numHeads));
  return add(y, mlp(layerNorm(y, p['norm2.weight'], p['norm2.bias'], eps), p, 'mlp.', ['fc1', 'fc2']));
}

/** HF BertLayer (post-norm, no dropout): a = LN(x + Wo·MHA(x)); LN(a + W2·gelu(W1·a)). */
export function bertLayer(x: NDArray, p: Params, numHeads: number, eps: number): NDArray {
  const w = {
    q: p['attention.self.query.weight'],
    qb: p['attention.self.query.bias'],
    k: p['attention.self.key.weight'],
    kb: p['attention.self.key.bias'],
    v: p['attention.self.value.weight'],
    vb: p['attention.self.value.bias'],
    out: p['attention.output.dense.weight'],
    outb: p['attention.output.dense.bias'],
  };
  const a = layerNorm(add(x, attentionFromWeights(x, x, x, w, numHeads)), p['attention.output.LayerNorm.weight'], p['attention.output.LayerNorm.bias'], eps);
  const f = linear(gelu(linear(a, p['intermediate.dense.weight'], p['intermediate.dense.bias'])), p['output.dense.weight'], p['output.dense.bias']);
  return layerNorm(add(a, f), p['output.LayerNorm.weight'], p['output.LayerNorm.bias'], eps);
}
