import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors';
import type { SeededRandom } from '../random';
import { scaledDotProductAttention } from '../ops/attention';
import { assertDim, assertFloat, assertRank, formatShape } from '../ops/validate';
import { resolveRng, uniformInit, xavierUniformBound } from './init';
import { Linear } from './linear';
import { MountedModule } from './mount';

/**
 * How the q, k and v projections are stored, as the official checkpoints have them:
 * - 'in-proj': torch.nn.MultiheadAttention, one packed parameter `in_proj_weight` [3E, E] (rows q, then
 *   k, then v) and `in_proj_bias` [3E] (TiTok, open_clip);
 * - 'packed': one Linear [3E, E] (timm's `qkv`; U-ViT);
 * - 'separate': three Linears (HF BERT's `query`, `key`, `value`).
 */
export type QkvLayout = 'in-proj' | 'packed' | 'separate';

/** State-dict paths of the projections, relative to the attention module; dotted paths nest. */
export interface AttentionParameterNames {
  /** 'in-proj': prefix of `<qkv>_weight` / `<qkv>_bias`; 'packed': the Linear. */
  qkv: string;
  /** 'separate' only. */
  query: string;
  key: string;
  value: string;
  /** The output projection (a Linear). */
  out: string;
}

const DEFAULT_NAMES: Record<QkvLayout, AttentionParameterNames> = {
  'in-proj': { qkv: 'in_proj', query: '', key: '', value: '', out: 'out_proj' },
  packed: { qkv: 'qkv', query: '', key: '', value: '', out: 'proj' },
  separate: { qkv: '', query: 'q_proj', key: 'k_proj', value: 'v_proj', out: 'out_proj' },
};

export interface MultiheadAttentionOptions {
  /** Biases on every projection (default true). */
  bias?: boolean;
  /** Biases on the q, k, v projections (default `bias`; U-ViT has none). */
  qkvBias?: boolean;
  /** How q, k and v are stored (default 'in-proj', nn.MultiheadAttention's). */
  layout?: QkvLayout;
  /** State-dict paths; defaults per layout: `in_proj_*` + `out_proj`, `qkv` + `proj`, `q_proj`/`k_proj`/`v_proj` + `out_proj`. */
  names?: Partial<AttentionParameterNames>;
  /** Dropout on the attention probabilities in training calls (default 0). */
  dropout?: number;
  rng?: SeededRandom;
}

export interface MultiheadAttentionForwardOptions {
  /**
   * Broadcastable to [B, heads, Nq, Nk]: bool keeps where true (F.scaled_dot_product_attention's
   * convention, the opposite of nn.MultiheadAttention's bool attn_mask); float is added to scores.
   */
  mask?: tf.Tensor;
  /** Apply the attention dropout (default false). */
  training?: boolean;
}

/**
 * Multi-head attention (batch first, kdim = vdim = embedDim) with the parameter layout of the checkpoint
 * it loads (`layout`, `names`), so weights load as they are. Heads are contiguous chunks of E/heads
 * channels, scores scaled by 1/√(E/heads), as nn.MultiheadAttention, timm and HF BERT all do.
 *
 * The default is torch.nn.MultiheadAttention: `in_proj_weight` [3E, E], `in_proj_bias` [3E],
 * `out_proj.weight` [E, E], `out_proj.bias` [E], xavier-uniform in_proj and zero biases as its
 * _reset_parameters; the other layouts start as nn.Linear does.
 *
 * The forward pass works on [rows, E] matrices: one packed product for q, k and v when they are stored
 * packed, heads split and merged by rank-4 transposes (tfjs-wasm's rank-5 Transpose runs element by
 * element), every product 2D or batched over (batch·heads).
 */
export class MultiheadAttention extends MountedModule {
  readonly layout: QkvLayout;
  /** 'in-proj': the packed q, k, v weight [3E, E] and bias [3E]. */
  readonly inProjWeight?: tf.Variable;
  readonly inProjBias?: tf.Variable;
  /** 'packed': the q, k, v Linear E → 3E. */
  readonly qkv?: Linear;
  /** 'separate': the three Linears E → E. */
  readonly query?: Linear;
  readonly key?: Linear;
  readonly value?: Linear;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || !Number.isInteger(numHeads) || numHeads < 1 || embedDim < 1 || embedDim % numHeads !== 0) {
      throw new ConfigError(`MultiheadAttention: embedDim (${embedDim}) must be a positive multiple of numHeads (${numHeads})`);
    }
    const layout = options.layout ?? 'in-proj';
    if (!(layout in DEFAULT_NAMES)) throw new ConfigError(`MultiheadAttention: layout must be 'in-proj', 'packed' or 'separate', got '${String(layout)}'`);
    this.layout = layout;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new ConfigError(`MultiheadAttention: dropout must be in [0, 1), got ${this.dropout}`);
    this.headDim = embedDim / numHeads;
    const names = { ...DEFAULT_NAMES[layout], ...options.names };
    const rng = resolveRng(options.rng);
    const bias = options.bias ?? true;
    const qkvBias = options.qkvBias ?? bias;
    const e = embedDim;
    if (layout === 'in-proj') {
      // As MultiheadAttention._reset_parameters: xavier_uniform_ on the packed [3E, E] matrix, zero biases.
      this.inProjWeight = this.mountParameter(`${names.qkv}_weight`, uniformInit(rng, [3 * e, e], xavierUniformBound(e, 3 * e)));
      if (qkvBias) this.inProjBias = this.mountParameter(`${names.qkv}_bias`, tf.zeros([3 * e]));
    } else if (layout === 'packed') {
      this.qkv = this.mount(names.qkv, new Linear(e, 3 * e, { bias: qkvBias, rng }));
    } else {
      this.query = this.mount(names.query, new Linear(e, e, { bias: qkvBias, rng }));
      this.key = this.mount(names.key, new Linear(e, e, { bias: qkvBias, rng }));
      this.value = this.mount(names.value, new Linear(e, e, { bias: qkvBias, rng }));
    }
    this.outProj = this.mount(names.out, new Linear(e, e, { bias, rng }));
    if (layout === 'in-proj' && this.outProj.bias) tf.tidy(() => this.outProj.bias!.assign(tf.zerosLike(this.outProj.bias!)));
  }

  /**
   * query [B, Nq, E], key [B, Nk, E] (default: query), value [B, Nk, E] (default: key) → [B, Nq, E].
   * Self-attention with packed weights runs one [rows, E]·[E, 3E] product.
   */
  forward(query: tf.Tensor, key: tf.Tensor = query, value: tf.Tensor = key, options: MultiheadAttentionForwardOptions = {}): tf.Tensor {
    const op = 'MultiheadAttention';
    const e = this.embedDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      assertFloat(t, op, name);
      assertRank(t, 3, op, name, '[B,N,E]');
      assertDim(t, -1, e, op, name, 'embedDim');
    }
    if (key.shape[0] !== query.shape[0] || value.shape[0] !== query.shape[0] || value.shape[1] !== key.shape[1]) {
      throw new ShapeError(
        `${op}: batch sizes must agree and value must have as many positions as key; got query ${formatShape(query.shape)}, key ${formatShape(key.shape)}, value ${formatShape(value.shape)}`,
      );
    }
    return tf.tidy(() => {
      const [b, nq] = query.shape as [number, number, number];
      const nk = key.shape[1]!;
      const rows = (x: tf.Tensor) => tf.reshape(x, [-1, e]);
      const [q, k, v] = this.project(rows(query), key === query ? null : rows(key), value === key ? null : rows(value));
      const out = scaledDotProductAttention(this.splitHeads(q, b, nq), this.splitHeads(k, b, nk), this.splitHeads(v, b, nk), {
        mask: options.mask,
        dropout: options.training ? this.dropout : 0,
      });
      return tf.reshape(this.outProj.forward(this.mergeHeads(out)), [b, nq, e]);
    });
  }

  /**
   * q, k, v as [rows, E] matrices. `k` null: keys are the queries; `v` null: values are the keys. When the
   * three inputs are one, packed weights run as one product and q, k, v are its column blocks.
   */
  private project(x: tf.Tensor, k: tf.Tensor | null, v: tf.Tensor | null): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const e = this.embedDim;
    const keys = k ?? x;
    const values = v ?? keys;
    if (this.layout === 'separate') return [this.query!.forward(x), this.key!.forward(keys), this.value!.forward(values)];
    const [w, bias] = this.layout === 'in-proj' ? [this.inProjWeight!, this.inProjBias] : [this.qkv!.weight, this.qkv!.bias];
    if (keys === x && values === x) return tf.split(linear(x, w, bias), 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const ws = tf.split(w, 3, 0);
    const bs = bias ? tf.split(bias, 3, 0) : [undefined, undefined, undefined];
    const part = (t: tf.Tensor, i: number) => linear(t, ws[i]!, bs[i]);
    return [part(x, 0), part(keys, 1), part(values, 2)].map((t) => tf.reshape(t, [-1, e])) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }

  /** [B·N, E] → [B, heads, N, E/heads]. */
  private splitHeads(x: tf.Tensor, b: number, n: number): tf.Tensor {
    return tf.transpose(tf.reshape(x, [b, n, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  /** [B, heads, N, E/heads] → [B·N, E]. */
  private mergeHeads(x: tf.Tensor): tf.Tensor {
    return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [-1, this.embedDim]);
  }
}

/**
 * x [rows, in]·Wᵀ + b with W [out, in]. Not tf.fused.matMul: tfjs-wasm 4.22 adds the bias to the wrong
 * elements when transposeB is set (see Linear).
 */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
  const y = tf.matMul(x, w, false, true);
  return b ? tf.add(y, b) : y;
}
