/**
 * The generator's training objective as the official code has it, in pieces a training loop composes:
 *
 *   const { masked, mask } = maskTokens(tokens, { maskId: model.vocabulary.maskId, random });
 *   const drop = dropClasses(batch, model.config.classLabelDropout, random);
 *   const logits = model.logits(masked, classes, { dropCondition: drop, training: true });
 *   const { loss } = mlmLoss(logits, tokens, mask);        // differentiable in the logits
 *
 * (`ImageBert.masking_input_tokens`, `MLMLoss` and `train_one_epoch_generator` of bytedance/1d-tokenizer.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, ShapeError, ValueError, assertDtype, formatShape } from '@vtok/core';
import { type MaskScheduleSpec, evaluateMaskSchedule, resolveMaskSchedule } from './schedules';

/** Uniform numbers in [0, 1); SeededRandom is one. */
export interface UniformSource {
  next(): number;
}

export interface MaskTokensOptions {
  /** The generator's mask id (K = `model.vocabulary.maskId`). */
  maskId: number;
  /** Default 'arccos', the official training schedule. */
  schedule?: MaskScheduleSpec;
  /** Where the draws come from: B timesteps, then B·L ranking numbers. Default: a SeededRandom of `seed`. */
  random?: UniformSource;
  seed?: number;
}

export interface MaskedTokens {
  /** The tokens with the chosen positions replaced by the mask id, int32, the input's shape. */
  masked: tf.Tensor;
  /** bool, the input's shape: true where a token was masked (the loss weights 1.0 there). */
  mask: tf.Tensor;
}

/** Python's round(): halves to even, as torch.round. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const f32 = Math.fround;

/**
 * How many of L tokens to mask at timestep t ∈ [0, 1): `clamp(γ(t), 1e-6, 1)·L`, rounded half to
 * even, at least 1 (the official code computes in float32, emulated here).
 */
export function maskCountAt(schedule: MaskScheduleSpec, t: number, length: number): number {
  const ratio = Math.min(1, Math.max(1e-6, f32(evaluateMaskSchedule(resolveMaskSchedule(schedule), f32(t)))));
  return Math.max(1, roundHalfEven(f32(length * f32(ratio))));
}

/**
 * Masks a scheduled number of tokens per sample at random positions (`masking_input_tokens`): per
 * sample a timestep t ~ U[0, 1) gives the count n; position j is masked when the rank of its uniform
 * draw (argsort) puts `argsort[j] < n`, a uniformly random set of n positions.
 */
export function maskTokens(tokens: tf.Tensor, options: MaskTokensOptions): MaskedTokens {
  assertDtype(tokens, 'int32', 'maskTokens', 'tokens');
  if (tokens.rank < 2) throw new ShapeError(`maskTokens: tokens must be [B, ...tokenShape], got ${formatShape(tokens.shape)}`);
  if (!Number.isInteger(options?.maskId) || options.maskId < 0) throw new ValueError(`maskTokens: maskId must be a non-negative integer, got ${String(options?.maskId)}`);
  const schedule = resolveMaskSchedule(options.schedule ?? 'arccos');
  const random = options.random ?? new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const b = tokens.shape[0];
  const l = tokens.size / b;
  const counts = Array.from({ length: b }, () => maskCountAt(schedule, random.next(), l));
  const flags = new Uint8Array(b * l);
  for (let r = 0; r < b; r++) {
    const draws = Array.from({ length: l }, () => f32(random.next()));
    // argsort (stable, as the draws are distinct in practice), then flag j when argsort[j] < n.
    const order = draws.map((_, j) => j).sort((x, y) => draws[x] - draws[y] || x - y);
    for (let j = 0; j < l; j++) flags[r * l + j] = order[j] < counts[r] ? 1 : 0;
  }
  return tf.tidy(() => {
    const mask = tf.tensor(flags, tokens.shape, 'bool');
    const masked = tf.where(mask, tf.fill(tokens.shape, options.maskId, 'int32'), tokens);
    return { masked, mask };
  });
}

/** Per-sample class dropout (`cond_drop_prob`): flag i is set when draw i < probability. */
export function dropClasses(batch: number, probability: number, random: UniformSource = new SeededRandom(Math.floor(Math.random() * 2 ** 32))): boolean[] {
  if (!Number.isInteger(batch) || batch < 1) throw new ValueError(`dropClasses: batch must be a positive integer, got ${batch}`);
  if (!(probability >= 0 && probability <= 1)) throw new ValueError(`dropClasses: probability must be in [0, 1], got ${probability}`);
  return Array.from({ length: batch }, () => random.next() < probability);
}

export interface MLMLossOptions {
  /** Label smoothing of the cross-entropy; official 0.1. */
  labelSmoothing?: number;
  /** Weight of the positions that were not masked; official 0.1 (`loss_weight_unmasked_token`). */
  unmaskedWeight?: number;
}

export interface MLMLossResult {
  /** Σ w·CE / (Σ w + 1e-8), w = 1 on masked and `unmaskedWeight` on unmasked positions; a scalar. */
  loss: tf.Scalar;
  /** Fraction of masked positions predicted right, averaged over samples (reported, not trained). */
  correctTokens: tf.Scalar;
}

/**
 * `MLMLoss`: cross-entropy with label smoothing over the K codes at every position, weighted 1.0 where
 * masked and 0.1 elsewhere. logits [B, L, K] (from `model.logits`), targets int32 [B, ...] (the
 * unmasked tokens), mask bool or float [B, ...] (from `maskTokens`).
 */
export function mlmLoss(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, options: MLMLossOptions = {}): MLMLossResult {
  assertDtype(logits, 'float32', 'mlmLoss', 'logits');
  assertDtype(targets, 'int32', 'mlmLoss', 'targets');
  if (logits.rank !== 3) throw new ShapeError(`mlmLoss: logits must be [B, L, K], got ${formatShape(logits.shape)}`);
  const [b, l, k] = logits.shape;
  for (const [name, t] of [['targets', targets], ['mask', mask]] as const) {
    if (t.shape[0] !== b || t.size !== b * l) {
      throw new ShapeError(`mlmLoss: ${name} must hold ${l} positions per sample for logits ${formatShape(logits.shape)}, got ${formatShape(t.shape)}`);
    }
  }
  const smoothing = options.labelSmoothing ?? 0.1;
  const unmaskedWeight = options.unmaskedWeight ?? 0.1;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new ValueError(`mlmLoss: labelSmoothing must be in [0, 1], got ${smoothing}`);
  if (!(unmaskedWeight >= 0) || !Number.isFinite(unmaskedWeight)) throw new ValueError(`mlmLoss: unmaskedWeight must be >= 0, got ${unmaskedWeight}`);
  return tf.tidy(() => {
    const target = tf.reshape(targets, [b, l]);
    const weights = tf.cast(tf.reshape(mask, [b, l]), 'float32');
    const logp = tf.logSoftmax(logits);
    // CrossEntropyLoss(label_smoothing=ε): (1−ε)·(−log p_target) + ε·mean_k(−log p_k).
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(target, k)), -1));
    const smooth = tf.neg(tf.mean(logp, -1));
    const ce = tf.add(tf.mul(nll, 1 - smoothing), tf.mul(smooth, smoothing));
    const w = tf.add(tf.mul(tf.sub(1, weights), unmaskedWeight), weights);
    const loss = tf.div(tf.sum(tf.mul(ce, w)), tf.add(tf.sum(w), 1e-8)) as tf.Scalar;
    const hit = tf.cast(tf.equal(tf.cast(tf.argMax(logits, -1), 'int32'), target), 'float32');
    const perSample = tf.div(tf.sum(tf.mul(hit, weights), 1), tf.add(tf.sum(weights, 1), 1e-8));
    return { loss, correctTokens: tf.mean(perSample) as tf.Scalar };
  });
}
