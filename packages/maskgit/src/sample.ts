/**
 * Iterative decoding exactly as the official `ImageBert.generate()` (UViTBert inherits it): start with
 * every token masked; at each step predict all positions (with classifier-free guidance), pick tokens
 * by Gumbel-argmax on the raw logits, keep the most confident ones and re-mask the rest by the masking
 * schedule. The forward passes and the argmax run on the tfjs backend; the per-position bookkeeping
 * (B·L numbers) runs here on the CPU, in float32 like the official code.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AbortError, type GuidanceDecay, type SampleOptions, type StepProgressEvent, ValueError, assertFiniteNumber } from '@vtok/core';
import { GUIDANCE_DECAYS, type MaskGITSamplingDefaults, type MaskGITVocabulary } from './config';
import { type GumbelNoise, drawGumbel, seededGumbelNoise } from './noise';
import { type MaskSchedule, type MaskScheduleSpec, evaluateMaskSchedule, resolveMaskSchedule } from './schedules';

/** One decoding step, reported through `onProgress` after the step is done. */
export interface MaskGITStepEvent extends StepProgressEvent {
  label: 'sample';
  /** Token ids after this step, [B, L] row-major; still-masked positions hold the mask id (K). */
  tokens: Int32Array;
  /** The step's predictions where tokens were masked (kept ids elsewhere), [B, L], before re-masking. */
  sampled: Int32Array;
  /** How many of the lowest-confidence positions the step re-masks (the official `mask_len`). */
  maskLength: number;
  /** Classifier-free guidance scale used at this step (0: no guidance, one forward pass). */
  guidanceScale: number;
  /** Gumbel temperature of this step: randomizeTemperature·(1 − (step+1)/steps). */
  temperature: number;
  /** Divisor of the logits when softmax-temperature annealing is on; 1 otherwise. */
  softmaxTemperature: number;
}

export interface MaskGITSampleOptions extends Omit<SampleOptions, 'schedule' | 'onProgress'> {
  /** Masking schedule: a registered name ('arccos', ...), a `{ type, ...config }`, or a function. */
  schedule?: MaskScheduleSpec;
  onProgress?: (event: MaskGITStepEvent) => void;
  /**
   * Replaces the seeded Gumbel noise (e.g. to replay another implementation's draws); `seed` is then
   * ignored.
   */
  noise?: GumbelNoise;
  /**
   * Debugging and tests: called at every step with the logits the step samples from ([B, L, K], after
   * guidance and softmax-temperature annealing, before noise). The tensor is disposed after the call.
   */
  onLogits?: (step: number, logits: tf.Tensor) => void;
}

/** What the sampler needs from a model. */
export interface SamplingModel {
  readonly vocabulary: MaskGITVocabulary;
  readonly sequenceLength: number;
  readonly numClasses: number;
  /** int32 [rows, L+1] (condition token first) → float32 logits [rows, L, K]. */
  forwardSequence(inputIds: tf.Tensor): tf.Tensor;
}

export interface ResolvedSampleSettings {
  classes: Int32Array;
  steps: number;
  guidanceScale: number;
  guidanceDecay: GuidanceDecay;
  guidanceScalePow: number;
  randomizeTemperature: number;
  softmaxTemperatureAnnealing: boolean;
  schedule: MaskSchedule;
  noise: GumbelNoise;
  signal?: AbortSignal;
}

/** Class labels as int32, each checked to lie in [0, numClasses). */
export function checkClassLabels(classes: unknown, numClasses: number, what = 'classes'): Int32Array {
  if (!Array.isArray(classes) && !(classes instanceof Int32Array)) {
    throw new ValueError(`${what} must be an array of class ids (one per sample), got ${String(classes)}`);
  }
  if (classes.length === 0) throw new ValueError(`${what} must hold at least one class id (its length is the batch size), got an empty list`);
  const out = new Int32Array(classes.length);
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ValueError(`${what}[${i}] must be an integer class id in [0, ${numClasses - 1}] (the generator has ${numClasses} classes), got ${String(c)}`);
    }
    out[i] = c;
  }
  return out;
}

/** Fills the options from the model's defaults and checks each one. */
export function resolveSampleSettings(options: MaskGITSampleOptions, defaults: MaskGITSamplingDefaults, numClasses: number): ResolvedSampleSettings {
  if (!options || typeof options !== 'object') throw new ValueError(`sample() needs an options object with classes, got ${String(options)}`);
  const classes = checkClassLabels(options.classes, numClasses);
  const steps = options.steps ?? defaults.steps;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1) {
    throw new ValueError(`steps must be an integer >= 1, got ${String(steps)}`);
  }
  const guidanceScale = options.guidanceScale ?? defaults.guidanceScale;
  assertFiniteNumber(guidanceScale, '', 'guidanceScale', { min: 0 });
  const guidanceDecay = options.guidanceDecay ?? defaults.guidanceDecay;
  if (!GUIDANCE_DECAYS.includes(guidanceDecay)) {
    throw new ValueError(`guidanceDecay must be one of ${GUIDANCE_DECAYS.map((d) => `'${d}'`).join(', ')}, got ${JSON.stringify(guidanceDecay)}`);
  }
  const guidanceScalePow = options.guidanceScalePow ?? defaults.guidanceScalePow;
  assertFiniteNumber(guidanceScalePow, '', 'guidanceScalePow');
  const randomizeTemperature = options.randomizeTemperature ?? defaults.randomizeTemperature;
  assertFiniteNumber(randomizeTemperature, '', 'randomizeTemperature', { min: 0 });
  const softmaxTemperatureAnnealing = options.softmaxTemperatureAnnealing ?? defaults.softmaxTemperatureAnnealing;
  if (typeof softmaxTemperatureAnnealing !== 'boolean') {
    throw new ValueError(`softmaxTemperatureAnnealing must be a boolean, got ${String(softmaxTemperatureAnnealing)}`);
  }
  const schedule = resolveMaskSchedule(options.schedule ?? defaults.schedule);
  let noise = options.noise;
  if (noise !== undefined && typeof noise !== 'function') throw new ValueError(`noise must be a function, got ${String(noise)}`);
  if (!noise) {
    if (options.seed !== undefined) assertFiniteNumber(options.seed, '', 'seed');
    noise = seededGumbelNoise(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  }
  return {
    classes,
    steps,
    guidanceScale,
    guidanceDecay,
    guidanceScalePow,
    randomizeTemperature,
    softmaxTemperatureAnnealing,
    schedule,
    noise,
    signal: options.signal,
  };
}

const f32 = Math.fround;

/**
 * The guidance scale of step `step` (0-based), as `generate()` sets `cfg_scale`: constant g; linear
 * (step/steps)·g, so step 0 has none; power-cosine (g−1)·(1−cos(π·(step/steps)^pow))/2 + 1, which the
 * official code computes on float32 tensors (emulated here).
 */
export function guidanceScaleAt(step: number, steps: number, decay: GuidanceDecay, scale: number, pow: number): number {
  if (decay === 'constant') return scale;
  if (decay === 'linear') return ((1 * step) / steps) * scale;
  const progress = f32(Math.pow(f32(step / steps), f32(pow)));
  const scaleStep = f32(f32(1 - f32(Math.cos(f32(progress * f32(Math.PI))))) * 0.5);
  return f32(f32(f32(scale - 1) * scaleStep) + 1);
}

/** `mask_len`: floor(L·γ(ratio)), at most one less than the masked count of sample 0, at least 1. */
export function maskLengthAt(schedule: MaskSchedule, ratio: number, length: number, maskedInFirstSample: number): number {
  const n = Math.floor(length * evaluateMaskSchedule(schedule, ratio));
  return Math.max(1, Math.min(maskedInFirstSample - 1, n));
}

function checkAbort(signal: AbortSignal | undefined, when: string): void {
  if (signal?.aborted) {
    const reason = signal.reason instanceof Error ? ` (${signal.reason.message})` : '';
    throw new AbortError(`sampling was aborted ${when}${reason}`);
  }
}

/**
 * The logits a step samples from, [B, L, K]: one forward pass with the classes, or (with guidance) one
 * pass over [classes; null class] whose two halves combine as `generate()` does: c + (c−u)·cfg, or
 * u + (c−u)·cfg for power-cosine. Both halves run in one batch; that is the same arithmetic per sample
 * as the official two calls.
 */
export function stepLogits(
  model: SamplingModel,
  ids: Int32Array,
  classes: Int32Array,
  cfg: number,
  decay: GuidanceDecay,
  softmaxTemperature: number | undefined,
): tf.Tensor {
  const b = classes.length;
  const l = model.sequenceLength;
  const rows = cfg !== 0 ? 2 * b : b;
  const input = new Int32Array(rows * (l + 1));
  for (let r = 0; r < rows; r++) {
    const sample = r % b;
    input[r * (l + 1)] = r < b ? model.vocabulary.classOffset + classes[sample] : model.vocabulary.nullClassId;
    input.set(ids.subarray(sample * l, (sample + 1) * l), r * (l + 1) + 1);
  }
  return tf.tidy(() => {
    const out = model.forwardSequence(tf.tensor2d(input, [rows, l + 1], 'int32'));
    let logits = out;
    if (cfg !== 0) {
      const k = (out.shape as number[])[2];
      const cond = tf.slice(out, [0, 0, 0], [b, l, k]);
      const uncond = tf.slice(out, [b, 0, 0], [b, l, k]);
      const delta = tf.mul(tf.sub(cond, uncond), cfg);
      logits = decay === 'power-cosine' ? tf.add(uncond, delta) : tf.add(cond, delta);
    }
    return softmaxTemperature === undefined ? logits : tf.div(logits, softmaxTemperature);
  });
}

/** Runs the decoding loop; returns the tokens [B·L] row-major. */
export async function sampleTokens(model: SamplingModel, settings: ResolvedSampleSettings, hooks: Pick<MaskGITSampleOptions, 'onProgress' | 'onLogits'> = {}): Promise<Int32Array> {
  const { classes, steps, guidanceDecay, signal, noise } = settings;
  const b = classes.length;
  const l = model.sequenceLength;
  const maskId = model.vocabulary.maskId;
  let ids: Int32Array = new Int32Array(b * l).fill(maskId);

  for (let step = 0; step < steps; step++) {
    checkAbort(signal, `before step ${step + 1} of ${steps}`);
    const ratio = (1 * (step + 1)) / steps;
    const temperature = settings.randomizeTemperature * (1.0 - ratio);
    const cfg = guidanceScaleAt(step, steps, guidanceDecay, settings.guidanceScale, settings.guidanceScalePow);
    const softmaxTemperature = settings.softmaxTemperatureAnnealing ? 0.5 + 0.8 * (1 - ratio) : undefined;
    const isMask = ids.map((id) => (id === maskId ? 1 : 0));

    // Device part: logits, Gumbel-argmax, and the logit of each pick. Only [B, L] numbers come back.
    let picked: tf.Tensor | undefined;
    let pickedLogits: tf.Tensor | undefined;
    let sampled: Int32Array;
    let sampledLogits: Float32Array;
    try {
      const logits = stepLogits(model, ids, classes, cfg, guidanceDecay, softmaxTemperature);
      try {
        hooks.onLogits?.(step, logits);
        const k = (logits.shape as number[])[2];
        const gumbel = temperature !== 0 ? drawGumbel(noise, { step, kind: 'tokens', shape: [b, l, k] }) : undefined;
        [picked, pickedLogits] = tf.tidy(() => {
          const noisy = gumbel ? tf.add(logits, tf.mul(tf.tensor3d(gumbel, [b, l, k]), temperature)) : logits;
          const choice = tf.cast(tf.argMax(noisy, -1), 'int32');
          // logits[choice] through a flat gather: O(B·L), on every backend.
          const flatIndex = tf.add(tf.mul(tf.range(0, b * l, 1, 'int32'), tf.scalar(k, 'int32')), tf.reshape(choice, [-1]));
          return [choice, tf.gather(tf.reshape(logits, [-1]), flatIndex)];
        });
      } finally {
        logits.dispose();
      }
      [sampled, sampledLogits] = (await Promise.all([picked.data(), pickedLogits.data()])) as [Int32Array, Float32Array];
    } finally {
      picked?.dispose();
      pickedLogits?.dispose();
    }
    checkAbort(signal, `during step ${step + 1} of ${steps}`);

    // Host part, float32 as in the official code: keep unmasked ids (confidence +inf), rank the rest.
    sampled = Int32Array.from(sampled) as Int32Array;
    const confidence = new Float32Array(b * l);
    const confidenceNoise = temperature !== 0 ? drawGumbel(noise, { step, kind: 'confidence', shape: [b, l] }) : undefined;
    const t32 = f32(temperature);
    for (let i = 0; i < b * l; i++) {
      if (!isMask[i]) {
        sampled[i] = ids[i];
        confidence[i] = Infinity;
      } else {
        confidence[i] = confidenceNoise ? f32(sampledLogits[i] + f32(t32 * confidenceNoise[i])) : sampledLogits[i];
      }
    }
    let maskedInFirst = 0;
    for (let i = 0; i < l; i++) maskedInFirst += isMask[i];
    const maskLength = maskLengthAt(settings.schedule, ratio, l, maskedInFirst);
    if (step === steps - 1) {
      ids = sampled;
    } else {
      const next = new Int32Array(b * l);
      for (let r = 0; r < b; r++) {
        const row = confidence.subarray(r * l, (r + 1) * l);
        const cut = Float32Array.from(row).sort()[maskLength - 1];
        // `<=` as the official code: ties at the cut-off are re-masked too.
        for (let i = 0; i < l; i++) next[r * l + i] = row[i] <= cut ? maskId : sampled[r * l + i];
      }
      ids = next;
    }
    hooks.onProgress?.({
      type: 'step',
      step: step + 1,
      of: steps,
      label: 'sample',
      tokens: ids.slice(),
      sampled,
      maskLength,
      guidanceScale: cfg,
      temperature,
      softmaxTemperature: softmaxTemperature ?? 1,
    });
  }
  return ids;
}
