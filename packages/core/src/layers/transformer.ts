import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import { Module } from '../module';
import type { SeededRandom } from '../random';
import { gelu, silu } from '../ops/activations';
import { MultiheadAttention } from './attention';
import { LayerNorm } from './norm';
import { Linear } from './linear';

export type Activation = 'gelu' | 'silu' | ((x: tf.Tensor) => tf.Tensor);

export interface MLPOptions {
  /** State-dict names of the two Linears; default ['c_fc', 'c_proj'] (open_clip/TiTok). */
  names?: [string, string];
  activation?: Activation;
  bias?: boolean;
  rng?: SeededRandom;
}

function activationFn(a: Activation): (x: tf.Tensor) => tf.Tensor {
  if (typeof a === 'function') return a;
  if (a === 'gelu') return gelu;
  if (a === 'silu') return silu;
  throw new ConfigError(`MLP: unknown activation '${a as string}' (expected 'gelu', 'silu' or a function)`);
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
    this.act = activationFn(options.activation ?? 'gelu');
    this.fc = this.addModule(fcName, new Linear(width, hidden, { bias: options.bias, rng }));
    this.proj = this.addModule(projName, new Linear(hidden, width, { bias: options.bias, rng }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.proj.forward(this.act(this.fc.forward(x))));
  }
}

export interface ResidualAttentionBlockOptions {
  /** Hidden width = floor(width · mlpRatio), default 4; 0 leaves out ln_2 and mlp, as TiTok's block does. */
  mlpRatio?: number;
  /** LayerNorm eps, default 1e-5 (TiTok). */
  eps?: number;
  rng?: SeededRandom;
}

export interface ResidualAttentionBlockForwardOptions {
  /** Passed to MultiheadAttention; TiTok attends bidirectionally without one. */
  mask?: tf.Tensor;
}

/**
 * TiTok's (open_clip-style) pre-LN transformer block on [B, N, width]:
 * x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)), with state-dict children `ln_1`, `attn`, `ln_2`,
 * `mlp.c_fc`, `mlp.c_proj` as in the official checkpoints.
 */
export class ResidualAttentionBlock extends Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiheadAttention;
  readonly ln2?: LayerNorm;
  readonly mlp?: MLP;

  constructor(
    readonly width: number,
    readonly numHeads: number,
    options: ResidualAttentionBlockOptions = {},
  ) {
    super();
    const mlpRatio = options.mlpRatio ?? 4;
    const eps = options.eps ?? 1e-5;
    const rng = options.rng;
    this.ln1 = this.addModule('ln_1', new LayerNorm(width, { eps }));
    this.attn = this.addModule('attn', new MultiheadAttention(width, numHeads, { rng }));
    if (mlpRatio > 0) {
      this.ln2 = this.addModule('ln_2', new LayerNorm(width, { eps }));
      this.mlp = this.addModule('mlp', new MLP(width, Math.floor(width * mlpRatio), { rng }));
    }
  }

  forward(x: tf.Tensor, options: ResidualAttentionBlockForwardOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const h = this.ln1.forward(x);
      let y = tf.add(x, this.attn.forward(h, h, h, { mask: options.mask }));
      if (this.ln2 && this.mlp) y = tf.add(y, this.mlp.forward(this.ln2.forward(y)));
      return y;
    });
  }
}
