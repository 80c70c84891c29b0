/**
 * Gradient post-processing: global-norm clipping (torch.nn.utils.clip_grad_norm_) and accumulation over
 * micro-batches. Gradients are records of tensors keyed as the optimiser accepts them (variable name or
 * state-dict name); the caller keeps ownership of what it passes in and owns what comes back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError, assertFiniteNumber, formatShape } from '@vtok/core';

/** Gradients by name (e.g. the `grads` of `tf.variableGrads`). */
export type GradientRecord = Record<string, tf.Tensor>;

export interface ClipGradNormOptions {
  /** The p of the norm; default 2. `Infinity` for the largest |value|. */
  normType?: number;
}

export interface ClipGradNormResult {
  /** The clipped gradients, new tensors with the same keys. */
  grads: GradientRecord;
  /** The total norm of the gradients before clipping, as a float32 scalar (torch returns it too). */
  totalNorm: tf.Scalar;
}

function checkRecord(grads: unknown, who: string): asserts grads is GradientRecord {
  if (grads === null || typeof grads !== 'object' || Array.isArray(grads)) throw new ValueError(`${who}: gradients must be a record name → tf.Tensor, got ${Array.isArray(grads) ? 'an array' : String(grads)}`);
  for (const [k, g] of Object.entries(grads)) {
    if (!(g instanceof tf.Tensor)) throw new ValueError(`${who}: the gradient "${k}" must be a tf.Tensor, got ${typeof g}`);
    if (g.isDisposed) throw new ValueError(`${who}: the gradient "${k}" is disposed`);
    if (g.dtype !== 'float32') throw new DTypeError(`${who}: the gradient "${k}" must be float32, got ${g.dtype}`);
  }
}

/**
 * Scales all gradients together so that their total p-norm is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_`: total = ‖(‖g₁‖ₚ, …, ‖gₙ‖ₚ)‖ₚ, coefficient = min(1, maxNorm / (total + 1e-6)),
 * every gradient multiplied by it. Runs on the device (no read-back); the caller owns the result's tensors.
 * With no gradients the total norm is 0.
 */
export function clipGradNorm(grads: GradientRecord, maxNorm: number, options: ClipGradNormOptions = {}): ClipGradNormResult {
  const who = 'clipGradNorm';
  checkRecord(grads, who);
  assertFiniteNumber(maxNorm, who, 'maxNorm', { min: 0 });
  const p = options.normType ?? 2;
  if (typeof p !== 'number' || !(p > 0)) throw new ValueError(`${who}: normType must be a number > 0 or Infinity, got ${String(p)}`);
  const entries = Object.entries(grads);
  return tf.tidy(() => {
    if (entries.length === 0) return { grads: {}, totalNorm: tf.scalar(0) };
    const norms = tf.stack(entries.map(([, g]) => vectorNorm(tf.reshape(g, [-1]), p)));
    const totalNorm = vectorNorm(norms, p) as tf.Scalar;
    const coef = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalNorm, tf.scalar(1e-6))), tf.scalar(1));
    const out: GradientRecord = {};
    for (const [k, g] of entries) out[k] = tf.mul(g, coef);
    return { grads: out, totalNorm };
  });
}

function vectorNorm(x: tf.Tensor, p: number): tf.Tensor {
  if (p === Infinity) return tf.max(tf.abs(x));
  if (p === 2) return tf.sqrt(tf.sum(tf.square(x)));
  if (p === 1) return tf.sum(tf.abs(x));
  return tf.pow(tf.sum(tf.pow(tf.abs(x), tf.scalar(p))), tf.scalar(1 / p));
}

/**
 * Sums gradients over micro-batches: `add` each micro-batch's gradients, then `sum()` or `mean()`
 * (the sum divided by the number of `add` calls, the gradient of the mean loss over equal micro-batches)
 * and `reset()` for the next step. A key missing from some micro-batches counts as a zero gradient there.
 * The accumulator owns its running sums (free them with `reset` or `dispose`); `add` copies nothing it is
 * given and leaves the inputs to the caller.
 */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();
  /** How many micro-batches were added since the last reset. */
  count = 0;

  add(grads: GradientRecord): void {
    const who = 'GradientAccumulator.add';
    checkRecord(grads, who);
    for (const [k, g] of Object.entries(grads)) {
      const prev = this.sums.get(k);
      if (prev && !sameShape(prev.shape, g.shape)) {
        throw new ShapeError(`${who}: the gradient "${k}" has shape ${formatShape(g.shape)}, earlier micro-batches gave ${formatShape(prev.shape)}`);
      }
    }
    for (const [k, g] of Object.entries(grads)) {
      const prev = this.sums.get(k);
      this.sums.set(k, prev ? tf.add(prev, g) : tf.clone(g));
      prev?.dispose();
    }
    this.count += 1;
  }

  /** The summed gradients, new tensors the caller owns. */
  sum(): GradientRecord {
    const out: GradientRecord = {};
    for (const [k, s] of this.sums) out[k] = tf.clone(s);
    return out;
  }

  /** The summed gradients divided by the number of micro-batches, new tensors the caller owns. */
  mean(): GradientRecord {
    if (this.count === 0) throw new ValueError('GradientAccumulator.mean: no micro-batch was added since the last reset');
    const out: GradientRecord = {};
    for (const [k, s] of this.sums) out[k] = tf.tidy(() => tf.div(s, tf.scalar(this.count)));
    return out;
  }

  /** Frees the running sums and starts over. */
  reset(): void {
    tf.dispose([...this.sums.values()]);
    this.sums.clear();
    this.count = 0;
  }

  dispose(): void {
    this.reset();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
