/**
 * Codebook usage statistics: how often each code was chosen since the last reset. Counting stays on the
 * device (one segment sum per call, no read-back); the numbers are read only when asked for.
 */
import * as tf from '@tensorflow/tfjs-core';
import { segmentSum } from './math';

export interface UsageStatistics {
  readonly codebookSize: number;
  /** Vectors quantised since the last reset. */
  readonly assignments: number;
  /** Codes chosen at least once. */
  readonly usedCodes: number;
  /** usedCodes / codebookSize. */
  readonly usedFraction: number;
  /** exp(entropy of the empirical code distribution): K for uniform use, 1 when one code takes all. */
  readonly perplexity: number;
  /** Per-code counts. */
  readonly counts: Float64Array;
}

/** Statistics of per-code counts (plain numbers; also usable on counts gathered elsewhere). */
export function usageStatisticsFromCounts(counts: ArrayLike<number>): UsageStatistics {
  const codebookSize = counts.length;
  let assignments = 0;
  let usedCodes = 0;
  for (let k = 0; k < codebookSize; k++) {
    assignments += counts[k];
    if (counts[k] > 0) usedCodes++;
  }
  let entropy = 0;
  for (let k = 0; k < codebookSize; k++) {
    if (counts[k] > 0) {
      const p = counts[k] / assignments;
      entropy -= p * Math.log(p);
    }
  }
  return {
    codebookSize,
    assignments,
    usedCodes,
    usedFraction: codebookSize > 0 ? usedCodes / codebookSize : 0,
    perplexity: assignments > 0 ? Math.exp(entropy) : 0,
    counts: Float64Array.from(counts as ArrayLike<number>),
  };
}

/** Number of times each of `codebookSize` codes occurs in int32 `indices` (any shape), float32 [K]. */
export function codeHistogram(indices: tf.Tensor, codebookSize: number): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(indices, [-1]) as tf.Tensor1D;
    return segmentSum(tf.ones(flat.shape, 'float32'), flat, codebookSize) as tf.Tensor1D;
  });
}

/** A non-trainable variable that takes over `initial` (tf.variable alone would leave it alive). */
export function ownedVariable(initial: tf.Tensor): tf.Variable {
  const v = tf.variable(initial, false);
  initial.dispose();
  return v;
}

/**
 * Accumulates code counts across calls on the device. Not part of any state dict (it is a
 * measurement, not model state). Created with its module so calls never change the tensor count.
 */
export class CodebookUsage {
  private counts: tf.Variable<tf.Rank.R1>;

  constructor(readonly codebookSize: number) {
    this.counts = ownedVariable(tf.zeros([codebookSize], 'float32')) as tf.Variable<tf.Rank.R1>;
  }

  /** Adds a histogram (from codeHistogram) to the running counts. */
  addHistogram(histogram: tf.Tensor1D): void {
    tf.tidy(() => this.counts.assign(tf.add(this.counts, histogram)));
  }

  /** Adds the codes in int32 `indices`. */
  record(indices: tf.Tensor): void {
    tf.tidy(() => this.addHistogram(codeHistogram(indices, this.codebookSize)));
  }

  async statistics(): Promise<UsageStatistics> {
    return usageStatisticsFromCounts(await this.counts.data());
  }

  reset(): void {
    tf.tidy(() => this.counts.assign(tf.zerosLike(this.counts)));
  }

  dispose(): void {
    this.counts.dispose();
  }
}
