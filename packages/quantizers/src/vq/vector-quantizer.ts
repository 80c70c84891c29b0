/**
 * VectorQuantizer as TiTok has it (bytedance/1d-tokenizer, `modeling/quantizer/quantizer.py`), channels-last:
 * nearest code by ‖z‖² + ‖e‖² − 2·z·eᵀ (one matrix product), optional l2-normalisation of latents and
 * codes, the official commitment and codebook losses, straight-through gradients, and lookup as
 * `get_codebook_entry`. Beyond the official code: EMA codebook updates, dead-code restart and usage
 * statistics.
 *
 * Official names → ours: `quantizer_loss` → `losses.total`, `commitment_loss` → `losses.commitment`,
 * `codebook_loss` → `losses.codebook`, `min_encoding_indices` → `indices` (the input shape without its last
 * axis), `get_codebook_entry` → `lookup` (ids) / `lookupSoft` (probabilities), `token_size` → `dim`.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Embedding,
  Module,
  SeededRandom,
  type QuantizeOptions,
  type QuantizeResult,
  type Quantizer,
  straightThrough,
  stopGradient,
  ShapeError,
  assertDtype,
  formatShape,
} from '@vtok/core';
import { argMinFirst, l2Normalize, segmentSum, squaredDistances } from '../common/math';
import { CodebookUsage, codeHistogram, ownedVariable, type UsageStatistics } from '../common/usage';
import { assertCodeIndices, assertQuantizerInput, type ValueCheck } from '../common/validate';
import { type DeadCodeRestartOptions, type EmaOptions, type VectorQuantizerConfig, resolveVectorQuantizerConfig } from './config';
import { restartDeadCodes } from './dead-codes';
import { emaCodebookUpdate } from './ema';

/**
 * The nearest code of each latent row: int32 indices [N] and the codes themselves [N,d]. The assignment runs
 * inside a customGrad, out of the gradient tape's sight: argmin has no gradient, the [N,K] distance matrix
 * is not kept for a backward pass, and the indices are not "derived from z" for the tape (tfjs would
 * otherwise ask gather for a float gradient of its int32 indices). The gradient reaches the codebook as
 * gather's would, and nothing reaches the latents.
 */
function assignNearest(latents: tf.Tensor2D, codes: tf.Tensor2D): { indices: tf.Tensor1D; codes: tf.Tensor2D } {
  let indices: tf.Tensor1D | null = null;
  const gathered = tf.customGrad((...args) => {
    const [z, book, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const found = argMinFirst(squaredDistances(z, book));
    save([found]);
    indices = tf.keep(found);
    return {
      value: tf.gather(book, found),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.zerosLike(z), segmentSum(dy, saved[0] as tf.Tensor1D, book.shape[0])],
    };
  })(latents, codes) as tf.Tensor2D;
  // Kept inside the kernel; handed to the caller's scope here so an enclosing tidy frees it.
  const found = indices as unknown as tf.Tensor1D;
  const owned = tf.clone(found) as tf.Tensor1D;
  found.dispose();
  return { indices: owned, codes: gathered };
}

export class VectorQuantizer extends Module implements Quantizer {
  readonly specificationVersion = 'v1' as const;
  readonly type = 'vq';
  readonly dim: number;
  readonly codebookSize: number;
  readonly useL2Norm: boolean;
  readonly commitmentCost: number;
  readonly ema: Readonly<Required<EmaOptions>> | null;
  readonly deadCodeRestart: Readonly<Required<DeadCodeRestartOptions>> | null;
  readonly checkValues: ValueCheck;
  /** The codebook, `embedding.weight` [K, dim] in the state dict (as the official module). */
  readonly embedding: Embedding;
  /** EMA cluster sizes N_k (state-dict buffer `cluster_size`, only with `ema`). */
  private readonly clusterSize: tf.Variable | null = null;
  /** Consecutive training calls each code went unchosen (only with `deadCodeRestart`; not in the state dict). */
  private readonly idleCalls: tf.Variable | null = null;
  private readonly usage: CodebookUsage | null;
  private readonly rng: SeededRandom;

  constructor(config: VectorQuantizerConfig) {
    super();
    const c = resolveVectorQuantizerConfig(config);
    this.dim = c.dim;
    this.codebookSize = c.codebookSize;
    this.useL2Norm = c.useL2Norm;
    this.commitmentCost = c.commitmentCost;
    this.ema = c.ema;
    this.deadCodeRestart = c.deadCodeRestart;
    this.checkValues = c.checkValues;
    this.rng = new SeededRandom(c.seed);
    const k = c.codebookSize;
    this.embedding = this.addModule('embedding', new Embedding(k, c.dim, { rng: this.rng.fork() }));
    // Official init: uniform(-1/K, 1/K) instead of Embedding's N(0, 1).
    const init = this.rng.uniform([k, c.dim], -1 / k, 1 / k);
    this.embedding.weight.assign(init);
    init.dispose();
    if (this.ema) {
      this.clusterSize = this.addBuffer('cluster_size', tf.ones([k]));
      // The EMA, not the optimiser, moves the codes.
      this.embedding.weight.trainable = false;
    }
    if (this.deadCodeRestart) this.idleCalls = ownedVariable(tf.zeros([k]));
    this.usage = c.trackUsage ? new CodebookUsage(k) : null;
  }

  /**
   * Quantises `z` [..., dim] (float32). Returns the nearest codes (l2-normalised when `useL2Norm`) with the
   * gradient passed straight through to `z` (through the normalisation when `useL2Norm`, as the official
   * `z + (z_q − z).detach()` on the normalised z), int32 `indices` [...], and the losses
   * `commitment` = β·mean((sg(z_q) − z)²), `codebook` = mean((z_q − sg(z))²), `total` = their sum.
   * With `training`, EMA updates and dead-code restarts (when configured) follow the assignment.
   */
  quantize(z: tf.Tensor, options: QuantizeOptions = {}): QuantizeResult {
    assertQuantizerInput(z, this.dim, 'VectorQuantizer.quantize', this.checkValues);
    const training = options.training ?? false;
    return tf.tidy(() => {
      // A snapshot of the codebook: the updates below re-assign the variable, and gradients must see the
      // values this call used.
      const weight = tf.clone(this.embedding.weight) as tf.Tensor2D;
      const codes = this.useL2Norm ? (l2Normalize(weight) as tf.Tensor2D) : weight;
      const flat = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D;
      const latents = this.useL2Norm ? (l2Normalize(flat) as tf.Tensor2D) : flat;
      const { indices, codes: zq } = assignNearest(latents, codes);

      const commitment = tf.mul(tf.mean(tf.square(tf.sub(stopGradient(zq), latents))), this.commitmentCost) as tf.Scalar;
      const codebook = tf.mean(tf.square(tf.sub(zq, stopGradient(latents)))) as tf.Scalar;
      const total = tf.add(commitment, codebook) as tf.Scalar;
      const quantized = tf.reshape(straightThrough(latents, zq), z.shape);

      this.afterAssignment(indices, codes, latents, flat, training);
      return { quantized, indices: tf.reshape(indices, z.shape.slice(0, -1)), losses: { commitment, codebook, total } };
    });
  }

  /** Usage counting, then (training only) the EMA step and dead-code restarts. Inside quantize's tidy. */
  private afterAssignment(indices: tf.Tensor1D, codes: tf.Tensor2D, latents: tf.Tensor2D, raw: tf.Tensor2D, training: boolean): void {
    const updates = training && (this.ema !== null || this.deadCodeRestart !== null);
    if (!this.usage && !updates) return;
    const histogram = codeHistogram(indices, this.codebookSize);
    this.usage?.addHistogram(histogram);
    if (!updates) return;
    let next: tf.Tensor2D | null = null;
    if (this.ema && this.clusterSize) {
      const step = emaCodebookUpdate({
        codes: stopGradient(codes) as tf.Tensor2D,
        clusterSize: this.clusterSize as tf.Tensor1D,
        latents: stopGradient(latents) as tf.Tensor2D,
        indices,
        histogram,
        ...this.ema,
      });
      next = step.codes;
      this.clusterSize.assign(step.clusterSize);
    }
    if (this.deadCodeRestart && this.idleCalls) {
      const step = restartDeadCodes({
        codes: next ?? (stopGradient(this.embedding.weight) as tf.Tensor2D),
        idleCalls: this.idleCalls as tf.Tensor1D,
        histogram,
        latents: stopGradient(raw) as tf.Tensor2D,
        afterCalls: this.deadCodeRestart.afterCalls,
        rng: this.rng,
      });
      next = step.codes;
      this.idleCalls.assign(step.idleCalls);
      // A restarted code starts its EMA afresh (N_k = 1, as at initialisation).
      if (this.clusterSize) this.clusterSize.assign(tf.where(step.restarted, tf.onesLike(this.clusterSize), this.clusterSize));
    }
    if (next) this.embedding.weight.assign(next);
  }

  /**
   * Code vectors of int32 `indices` (any shape) → [...indices.shape, dim], l2-normalised when `useL2Norm`
   * (official `get_codebook_entry` for integer ids). Ids outside [0, codebookSize) are a ValueError where
   * value checks run (see `checkValues`).
   */
  lookup(indices: tf.Tensor): tf.Tensor {
    assertCodeIndices(indices, this.codebookSize, 'VectorQuantizer.lookup', this.checkValues);
    return tf.tidy(() => {
      const rows = tf.gather(this.embedding.weight, tf.reshape(indices, [-1]));
      const codes = this.useL2Norm ? l2Normalize(rows) : rows;
      return tf.reshape(codes, [...indices.shape, this.dim]);
    });
  }

  /**
   * Soft lookup: probabilities over the codes [..., K] (float32) → Σ_k p_k·e_k [..., dim], l2-normalised when
   * `useL2Norm` (official `get_codebook_entry` for a 2-D float input).
   */
  lookupSoft(probabilities: tf.Tensor): tf.Tensor {
    const who = 'VectorQuantizer.lookupSoft';
    assertDtype(probabilities, 'float32', who, 'probabilities');
    if (probabilities.rank < 1 || probabilities.shape[probabilities.rank - 1] !== this.codebookSize) {
      throw new ShapeError(`${who}: expected probabilities [..., ${this.codebookSize}] (codebook size), got shape ${formatShape(probabilities.shape)}`);
    }
    return tf.tidy(() => {
      const flat = tf.reshape(probabilities, [-1, this.codebookSize]);
      const mixed = tf.matMul(flat, this.embedding.weight);
      const codes = this.useL2Norm ? l2Normalize(mixed) : mixed;
      return tf.reshape(codes, [...probabilities.shape.slice(0, -1), this.dim]);
    });
  }

  /** The codes as matched against, [K, dim] (l2-normalised when `useL2Norm`). The caller owns the tensor. */
  codebook(): tf.Tensor2D {
    return tf.tidy(() => (this.useL2Norm ? l2Normalize(this.embedding.weight) : tf.clone(this.embedding.weight)) as tf.Tensor2D);
  }

  /** Perplexity and fraction of codes used over every quantize call since construction or the last reset. */
  async usageStatistics(): Promise<UsageStatistics> {
    if (!this.usage) throw new Error('VectorQuantizer: usage statistics are off (created with trackUsage: false)');
    return this.usage.statistics();
  }

  resetUsageStatistics(): void {
    this.usage?.reset();
  }

  /** Marks every code as just used, so dead-code restart counts afresh (e.g. after loading a checkpoint). */
  resetIdleCounters(): void {
    if (this.idleCalls) tf.tidy(() => this.idleCalls!.assign(tf.zerosLike(this.idleCalls!)));
  }

  override dispose(): void {
    this.usage?.dispose();
    this.idleCalls?.dispose();
    super.dispose();
  }
}
