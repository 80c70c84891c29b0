/**
 * A user quantizer plugin: residual VQ over vtok's built-in VectorQuantizer. Stage s quantises what the
 * stages before it left over, so S stages of K codes each describe a vector with one of K^S combined codes:
 *
 *   r₀ = z,   q_s = VQ_s(r_s),   r_{s+1} = r_s − q_s,   quantized = Σ_s q_s,   id = Σ_s i_s·K^s
 *
 * It implements core's Quantizer contract, registers itself under 'residual-vq', and types its config by
 * declaration merging, so `createQuantizer({ type: 'residual-vq', ... })` type-checks.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Module,
  ModuleList,
  type QuantizeOptions,
  type QuantizeResult,
  type Quantizer,
  quantizerRegistry,
  registerQuantizer,
  stopGradient,
  straightThrough,
} from '@vtok/core';
import { VectorQuantizer, assertCodeIndices, assertQuantizerInput } from '@vtok/quantizers';

export interface ResidualVQConfig {
  /** Length of a code vector. */
  dim: number;
  /** Codes per stage K; the combined vocabulary is K^numStages. */
  stageCodebookSize: number;
  /** Number of stages S. */
  numStages: number;
  /** β of each stage's commitment loss (default 0.25, the built-in VQ's default). */
  commitmentCost?: number;
  /** Seeds the stage codebooks. */
  seed?: number;
}

// Declaration merging: core's registry now knows the config type of 'residual-vq'.
declare module '@vtok/core' {
  interface QuantizerConfigs {
    'residual-vq': ResidualVQConfig;
  }
}

export class ResidualVQ extends Module implements Quantizer {
  readonly specificationVersion = 'v1' as const;
  readonly type = 'residual-vq';
  readonly dim: number;
  readonly codebookSize: number;
  readonly stageCodebookSize: number;
  /** State-dict keys `stages.<s>.embedding.weight`. */
  readonly stages: ModuleList<VectorQuantizer>;

  constructor(config: ResidualVQConfig) {
    super();
    const { dim, stageCodebookSize: k, numStages } = config;
    if (!Number.isInteger(numStages) || numStages < 1) throw new ConfigError(`ResidualVQ: numStages must be a positive integer, got ${numStages}`);
    if (!Number.isInteger(k) || k < 2) throw new ConfigError(`ResidualVQ: stageCodebookSize must be an integer >= 2, got ${k}`);
    // Combined ids are int32 tokens.
    if (k ** numStages > 2 ** 31 - 1) throw new ConfigError(`ResidualVQ: ${k}^${numStages} codes do not fit int32 token ids`);
    this.dim = dim;
    this.stageCodebookSize = k;
    this.codebookSize = k ** numStages;
    const seed = config.seed ?? 0;
    this.stages = this.addModule(
      'stages',
      new ModuleList(
        Array.from({ length: numStages }, (_, s) => new VectorQuantizer({ dim, codebookSize: k, commitmentCost: config.commitmentCost, seed: seed + s })),
      ),
    );
  }

  quantize(z: tf.Tensor, options: QuantizeOptions = {}): QuantizeResult {
    // The package's shared checks: float32, last dimension `dim`, and no NaN/Inf (on cpu/wasm).
    assertQuantizerInput(z, this.dim, 'ResidualVQ.quantize');
    return tf.tidy(() => {
      let residual = z;
      let sum: tf.Tensor | null = null;
      let ids: tf.Tensor | null = null;
      const losses: Record<string, tf.Scalar> = {};
      this.stages.items.forEach((stage, s) => {
        const r = stage.quantize(residual, options);
        // Each stage's own losses (commitment to its residual, codebook to its codes) add up.
        for (const [name, value] of Object.entries(r.losses)) losses[name] = losses[name] ? tf.add(losses[name], value) : value;
        // The stage's codes as values only: the output passes the gradient to z once, below.
        const q = stopGradient(r.quantized);
        sum = sum ? tf.add(sum, q) : q;
        const weighted = tf.mul(r.indices, tf.scalar(this.stageCodebookSize ** s, 'int32'));
        ids = ids ? tf.add(ids, weighted) : weighted;
        residual = tf.sub(residual, q);
      });
      // Straight-through for the whole stack: the value is Σ q_s, the gradient reaches z unchanged.
      return { quantized: straightThrough(z, sum!), indices: ids!, losses };
    });
  }

  /** Combined ids → Σ_s (stage s code of digit s), [...ids.shape, dim]. */
  lookup(indices: tf.Tensor): tf.Tensor {
    assertCodeIndices(indices, this.codebookSize, 'ResidualVQ.lookup');
    return tf.tidy(() => {
      const k = tf.scalar(this.stageCodebookSize, 'int32');
      let rest = indices;
      let sum: tf.Tensor | null = null;
      for (const stage of this.stages) {
        const codes = stage.lookup(tf.mod(rest, k));
        sum = sum ? tf.add(sum, codes) : codes;
        rest = tf.floorDiv(rest, k);
      }
      return sum!;
    });
  }
}

/** Registers 'residual-vq' once (a second evaluation of this module keeps the first registration). */
export function registerResidualVQ(): void {
  if (!quantizerRegistry.has('residual-vq')) registerQuantizer('residual-vq', (config) => new ResidualVQ(config));
}

registerResidualVQ();
