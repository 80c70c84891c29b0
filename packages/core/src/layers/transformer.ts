import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { Module } from '../module';
import type { SeededRandom } from '../random';
import { gelu, silu } from '../ops/activations';
import { assertDim, assertFloat, assertRank } from '../ops/validate';
import { type AttentionParameterNames, MultiheadAttention, type QkvLayout } from './attention';
import { LayerNorm } from './norm';
import { Linear } from './linear';
import { MountedModule } from './mount';

export type Activation = 'gelu' | 'silu' | ((x: tf.Tensor) => tf.Tensor);

function activationFn(a: Activation, who: string): (x: tf.Tensor) => tf.Tensor {
  if (typeof a === 'function') return a;
  if (a === 'gelu') return gelu;
  if (a === 'silu') return silu;
  throw new ConfigError(`${who}: unknown activation '${a as string}' (expected 'gelu', 'silu' or a function)`);
}

/** fc → activation → proj over the last axis: the feed-forward of MLP and of ResidualAttentionBlock. */
function feedForward(fc: Linear, act: (x: tf.Tensor) => tf.Tensor, proj: Linear, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => proj.forward(act(fc.forward(x))));
}

export interface MLPOptions {
  /** State-dict names of the two Linears; default ['c_fc', 'c_proj'] (open_clip/TiTok). */
  names?: [string, string];
  activation?: Activation;
  bias?: boolean;
  rng?: SeededRandom;
}

/** Linear(width → hidden), activation, Linear(hidden → width); no dropout. */
export class MLP extends Module {
  readonly fc: Linear;
  readonly proj: Linear;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(
    readonly width: number,
    readonly hidden: number,
    options: MLPOptions = {},
  ) {
    super();
    const [fcName, projName] = options.names ?? ['c_fc', 'c_proj'];
    const rng = options.rng;
    this.act = activationFn(options.activation ?? 'gelu', 'MLP');
    this.fc = this.addModule(fcName, new Linear(width, hidden, { bias: options.bias, rng }));
    this.proj = this.addModule(projName, new Linear(hidden, width, { bias: options.bias, rng }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return feedForward(this.fc, this.act, this.proj, x);
  }
}

/** State-dict paths of a block's parts, relative to the block (dotted paths nest). */
export interface TransformerBlockNames {
  /** The LayerNorm before attention (pre-norm) or after the attention residual (post-norm). */
  norm1: string;
  /** The attention module. */
  attention: string;
  /** Paths of the attention's projections, relative to `attention`. */
  attentionNames: Partial<AttentionParameterNames>;
  /** How the attention stores q, k and v. */
  qkvLayout: QkvLayout;
  /** The LayerNorm before the MLP (pre-norm) or after the MLP residual (post-norm). */
  norm2: string;
  /** The MLP's two Linears. */
  fc: string;
  proj: string;
}

/**
 * The parameter names (and q, k, v layout) of the checkpoint families vtok's models load:
 * - 'open-clip': `ln_1`, `attn.in_proj_weight`/`in_proj_bias`/`out_proj`, `ln_2`, `mlp.c_fc`, `mlp.c_proj`
 *   (TiTok's ViTs);
 * - 'timm': `norm1`, `attn.qkv`, `attn.proj`, `norm2`, `mlp.fc1`, `mlp.fc2` (U-ViT, MaskGIT's UViTBert);
 * - 'hf-bert': `attention.self.{query,key,value}`, `attention.output.dense`, `attention.output.LayerNorm`,
 *   `intermediate.dense`, `output.dense`, `output.LayerNorm` (HF BertLayer, MaskGIT's ImageBert).
 */
export const TRANSFORMER_NAMING = {
  'open-clip': { norm1: 'ln_1', attention: 'attn', attentionNames: {}, qkvLayout: 'in-proj', norm2: 'ln_2', fc: 'mlp.c_fc', proj: 'mlp.c_proj' },
  timm: { norm1: 'norm1', attention: 'attn', attentionNames: { qkv: 'qkv', out: 'proj' }, qkvLayout: 'packed', norm2: 'norm2', fc: 'mlp.fc1', proj: 'mlp.fc2' },
  'hf-bert': {
    norm1: 'attention.output.LayerNorm',
    attention: 'attention',
    attentionNames: { query: 'self.query', key: 'self.key', value: 'self.value', out: 'output.dense' },
    qkvLayout: 'separate',
    norm2: 'output.LayerNorm',
    fc: 'intermediate.dense',
    proj: 'output.dense',
  },
} as const satisfies Record<string, TransformerBlockNames>;

export type TransformerNaming = keyof typeof TRANSFORMER_NAMING;

export interface ResidualAttentionBlockOptions {
  /** Hidden width = floor(width · mlpRatio), default 4; 0 leaves out norm2 and the MLP, as TiTok's block does. */
  mlpRatio?: number;
  /** The MLP's hidden width, when given (BERT's intermediate_size); overrides mlpRatio. */
  mlpHidden?: number;
  /** LayerNorm eps, default 1e-5 (PyTorch's; HF BERT uses 1e-12). */
  eps?: number;
  /**
   * Where the LayerNorms sit: 'pre' (default; ViT, open_clip, U-ViT): x + attn(norm1(x)), then
   * + mlp(norm2(·)); 'post' (BERT): norm1(x + attn(x)), then norm2(· + mlp(·)).
   */
  norm?: 'pre' | 'post';
  /** Parameter names of a checkpoint family, or explicit paths (default 'open-clip'). */
  naming?: TransformerNaming | TransformerBlockNames;
  /** Biases on the q, k, v projections (default true; U-ViT has none). */
  qkvBias?: boolean;
  /** The MLP's activation (default exact GELU). */
  activation?: Activation;
  /** Dropout on the attention output and the MLP output in training calls (BERT's hidden dropout), default 0. */
  dropout?: number;
  /** Dropout on the attention probabilities in training calls, default 0. */
  attentionDropout?: number;
  rng?: SeededRandom;
}

export interface ResidualAttentionBlockForwardOptions {
  /** Passed to MultiheadAttention; the models here attend bidirectionally without one. */
  mask?: tf.Tensor;
  /** Apply the dropouts (default false). */
  training?: boolean;
}

/**
 * The transformer block of vtok's models, pre-norm (TiTok, U-ViT) or post-norm (BERT), on [B, N, width],
 * with the state-dict names of the checkpoint family it loads (`naming`). The default is TiTok's
 * (open_clip's) ResidualAttentionBlock: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)), children `ln_1`,
 * `attn`, `ln_2`, `mlp.c_fc`, `mlp.c_proj`.
 */
export class ResidualAttentionBlock extends MountedModule {
  readonly norm1: LayerNorm;
  readonly attn: MultiheadAttention;
  readonly norm2?: LayerNorm;
  readonly fc?: Linear;
  readonly proj?: Linear;
  readonly normPosition: 'pre' | 'post';
  readonly dropout: number;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(
    readonly width: number,
    readonly numHeads: number,
    options: ResidualAttentionBlockOptions = {},
  ) {
    super();
    const naming = options.naming ?? 'open-clip';
    const names: TransformerBlockNames = typeof naming === 'string' ? TRANSFORMER_NAMING[naming] : naming;
    if (!names) throw new ConfigError(`ResidualAttentionBlock: unknown naming '${String(naming)}' (expected ${Object.keys(TRANSFORMER_NAMING).map((n) => `'${n}'`).join(', ')} or explicit names)`);
    const hidden = options.mlpHidden ?? Math.floor(width * (options.mlpRatio ?? 4));
    if (!Number.isInteger(hidden) || hidden < 0) throw new ConfigError(`ResidualAttentionBlock: the MLP's hidden width must be a whole number >= 0, got ${hidden}`);
    this.normPosition = options.norm ?? 'pre';
    if (this.normPosition !== 'pre' && this.normPosition !== 'post') throw new ConfigError(`ResidualAttentionBlock: norm must be 'pre' or 'post', got '${String(this.normPosition)}'`);
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new ConfigError(`ResidualAttentionBlock: dropout must be in [0, 1), got ${this.dropout}`);
    this.act = activationFn(options.activation ?? 'gelu', 'ResidualAttentionBlock');
    const eps = options.eps ?? 1e-5;
    const rng = options.rng;
    const attention = () =>
      this.mount(
        names.attention,
        new MultiheadAttention(width, numHeads, {
          layout: names.qkvLayout,
          names: names.attentionNames,
          qkvBias: options.qkvBias,
          dropout: options.attentionDropout,
          rng,
        }),
      );
    // Registered in the order of the computation, as the official modules are (the state-dict order, and
    // the order random weights are drawn in); a norm inside the attention's subtree comes after it.
    const post = this.normPosition === 'post';
    const norm = (path: string) => this.mount(path, new LayerNorm(width, { eps }));
    if (post || names.norm1.startsWith(`${names.attention}.`)) {
      this.attn = attention();
      this.norm1 = norm(names.norm1);
    } else {
      this.norm1 = norm(names.norm1);
      this.attn = attention();
    }
    if (hidden > 0) {
      if (!post) this.norm2 = norm(names.norm2);
      this.fc = this.mount(names.fc, new Linear(width, hidden, { rng }));
      this.proj = this.mount(names.proj, new Linear(hidden, width, { rng }));
      if (post) this.norm2 = norm(names.norm2);
    }
  }

  forward(x: tf.Tensor, options: ResidualAttentionBlockForwardOptions = {}): tf.Tensor {
    const op = 'ResidualAttentionBlock';
    assertFloat(x, op);
    assertRank(x, 3, op, 'x', '[B,N,width]');
    assertDim(x, -1, this.width, op, 'x', 'width');
    const training = options.training ?? false;
    const drop = (t: tf.Tensor) => (training && this.dropout > 0 ? tf.dropout(t, this.dropout) : t);
    return tf.tidy(() => {
      const attend = (t: tf.Tensor) => drop(this.attn.forward(t, t, t, { mask: options.mask, training }));
      const mlp = (t: tf.Tensor) => drop(feedForward(this.fc!, this.act, this.proj!, t));
      if (this.normPosition === 'post') {
        const a = this.norm1.forward(tf.add(x, attend(x)));
        return this.norm2 ? this.norm2.forward(tf.add(a, mlp(a))) : a;
      }
      const a = tf.add(x, attend(this.norm1.forward(x)));
      return this.norm2 ? tf.add(a, mlp(this.norm2.forward(a))) : a;
    });
  }
}
