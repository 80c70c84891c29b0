/**
 * The Open-MAGVIT2 tokenizer network (VQModel without its training loss): encoder, lookup-free
 * quantiser, decoder. Works in the model's own terms: pixels in [-1, 1], channels-last, any input size
 * the architecture accepts. Magvit2Tokenizer wraps it in vtok's Tokenizer contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, type QuantizeResult, type Quantizer, SeededRandom } from '@vtok/core';
import type { Magvit2Config } from './config';
import { Decoder } from './decoder';
import { Encoder } from './encoder';
import type { NormMode } from './layers/norm';
import { createMagvit2Quantizer } from './quantizer';

export type Magvit2Part = 'encoder' | 'decoder';

export interface Magvit2ModelOptions {
  /** Which halves to build (default both): an encoder-only model tokenises, a decoder-only one renders. */
  parts?: readonly Magvit2Part[];
  /** Seed of the random initialisation (PyTorch's default init); random when absent. */
  seed?: number;
}

export interface ForwardOptions {
  /** GroupNorm statistics over clips; default the config's `normalization`. */
  normalization?: NormMode;
  /** Sees every named intermediate (e.g. `enc.down0`, `dec.adaptive1`), channels-last; must not keep it. */
  onStage?: (name: string, t: tf.Tensor) => void;
}

export class Magvit2Model extends Module {
  readonly encoder?: Encoder;
  readonly decoder?: Decoder;
  readonly quantizer: Quantizer;
  readonly parts: readonly Magvit2Part[];

  constructor(
    readonly config: Magvit2Config,
    options: Magvit2ModelOptions = {},
  ) {
    super();
    const parts = options.parts ?? ['encoder', 'decoder'];
    if (parts.length === 0 || parts.some((p) => p !== 'encoder' && p !== 'decoder')) {
      throw new ConfigError(`parts must list 'encoder' and/or 'decoder', got [${parts.join(', ')}]`);
    }
    this.parts = [...new Set(parts)];
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    if (parts.includes('encoder')) this.encoder = this.addModule('encoder', new Encoder(config, rng));
    if (parts.includes('decoder')) this.decoder = this.addModule('decoder', new Decoder(config, rng));
    this.quantizer = createMagvit2Quantizer(config);
  }

  private missing(part: Magvit2Part): ConfigError {
    return new ConfigError(`this MAGVIT-v2 model was loaded without its ${part} (parts: ${this.parts.join(', ')}); load it with parts: ['${part}']`);
  }

  /** Pixels in [-1, 1], [B, H, W, 3] or [B, T, H, W, 3] -> latent before quantisation [B, (t,) h, w, z]. */
  encodeLatent(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    if (!this.encoder) throw this.missing('encoder');
    return this.encoder.forward(x, options.normalization ?? this.config.normalization, options.onStage);
  }

  /**
   * Lookup-free quantisation of a latent [..., z]: `quantized` (±1, straight-through), `indices`
   * int32 [...] (LSB-first: channel d is bit d), and in training the Open-MAGVIT2 losses.
   */
  quantize(z: tf.Tensor, options: { training?: boolean } = {}): QuantizeResult {
    return this.quantizer.quantize(z, options);
  }

  /** ±1 codes of token ids [...] -> [..., z]. */
  codes(indices: tf.Tensor): tf.Tensor {
    return this.quantizer.lookup(indices);
  }

  /** Quantised latent [B, (t,) h, w, z] -> pixels in about [-1, 1], unclamped. */
  decodeLatent(zq: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    if (!this.decoder) throw this.missing('decoder');
    return this.decoder.forward(zq, options.normalization ?? this.config.normalization, options.onStage);
  }

  /** Encoder, quantiser and decoder in one pass (VQModel.forward): reconstruction and quantiser result. */
  forward(x: tf.Tensor, options: ForwardOptions & { training?: boolean } = {}): { reconstruction: tf.Tensor } & QuantizeResult {
    const z = this.encodeLatent(x, options);
    try {
      const q = this.quantize(z, { training: options.training });
      return { ...q, reconstruction: this.decodeLatent(q.quantized, options) };
    } finally {
      z.dispose();
    }
  }

  override dispose(): void {
    super.dispose();
    this.quantizer.dispose();
  }
}
