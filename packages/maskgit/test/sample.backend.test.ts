/**
 * The sampler beyond the greedy golden runs: with Gumbel noise (temperature > 0) it matches a direct
 * transcription of the official generate() loop (two separate forward passes, host argmax) fed the same
 * injected noise; a seed reproduces; abort stops within one step and leaks nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AbortError, SeededRandom, ShapeError } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { type GumbelRequest, type MaskGITGenerator, type MaskGITSamplingDefaults, type MaskGITStepEvent, createMaskGIT, resolveMaskSchedule } from '../src';
import { randomizeParams } from './reference';

const tiny = (modelType: 'ViT' | 'UViT', tokenShape: number[]) =>
  createMaskGIT({ modelType, codebookSize: 32, numClasses: 6, tokenShape, hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64 }, { seed: 9 });

/** Noise that is a pure function of the request, so two runs (or two implementations) see the same draws. */
function replayableNoise(seed: number) {
  return ({ step, kind, shape }: GumbelRequest) => new SeededRandom(seed * 1000 + step * 2 + (kind === 'tokens' ? 0 : 1)).gumbelArray(shape.reduce((a, b) => a * b, 1));
}

/** The sampling settings of one case (the schedule is arccos, as the official generators hard-code). */
type Settings = Omit<MaskGITSamplingDefaults, 'schedule'>;

/** The official generate() transcribed line by line (float32 via Float32Array), over model.logits. */
async function officialGenerate(model: MaskGITGenerator, classes: number[], s: Settings, noise: ReturnType<typeof replayableNoise>): Promise<Int32Array[]> {
  const b = classes.length;
  const l = model.sequenceLength;
  const k = model.vocabulary.codebookSize;
  const K = model.vocabulary.maskId;
  let ids = new Int32Array(b * l).fill(K);
  let cfg = s.guidanceDecay === 'constant' ? s.guidanceScale : 0;
  const perStep: Int32Array[] = [];
  for (let step = 0; step < s.steps; step++) {
    const ratio = (step + 1) / s.steps;
    const temp = s.randomizeTemperature * (1 - ratio);
    const isMask = Array.from(ids, (v) => v === K);
    if (s.guidanceDecay === 'power-cosine') {
      const f = Math.fround;
      const scaleStep = f(f(1 - f(Math.cos(f(f(Math.pow(f(step / s.steps), f(s.guidanceScalePow))) * f(Math.PI))))) * 0.5);
      cfg = f(f(f(s.guidanceScale - 1) * scaleStep) + 1);
    }
    const tokens = tf.tensor2d(ids, [b, l], 'int32');
    const c = model.logits(tokens, classes);
    let logits: Float32Array;
    if (cfg !== 0) {
      const u = model.logits(tokens, classes, { dropCondition: true });
      const cd = await c.data();
      const ud = await u.data();
      logits = new Float32Array(cd.length);
      for (let i = 0; i < cd.length; i++) {
        const delta = Math.fround(Math.fround(cd[i] - ud[i]) * Math.fround(cfg));
        logits[i] = s.guidanceDecay === 'power-cosine' ? ud[i] + delta : cd[i] + delta;
      }
      u.dispose();
    } else logits = Float32Array.from(await c.data());
    tf.dispose([c, tokens]);
    if (s.softmaxTemperatureAnnealing) {
      const t = Math.fround(0.5 + 0.8 * (1 - ratio));
      for (let i = 0; i < logits.length; i++) logits[i] = logits[i] / t;
    }
    const g1 = temp !== 0 ? noise({ step, kind: 'tokens', shape: [b, l, k] }) : new Float32Array(b * l * k);
    const sampled = new Int32Array(b * l);
    const sampledLogits = new Float32Array(b * l);
    for (let i = 0; i < b * l; i++) {
      let best = -Infinity;
      let arg = 0;
      for (let j = 0; j < k; j++) {
        const v = Math.fround(logits[i * k + j] + Math.fround(Math.fround(temp) * g1[i * k + j]));
        if (v > best) {
          best = v;
          arg = j;
        }
      }
      sampled[i] = isMask[i] ? arg : ids[i];
      sampledLogits[i] = isMask[i] ? logits[i * k + arg] : Infinity;
    }
    const maskRatio = Math.acos(ratio) / (Math.PI * 0.5);
    const masked0 = isMask.slice(0, l).filter(Boolean).length;
    const maskLen = Math.max(1, Math.min(masked0 - 1, Math.floor(l * maskRatio)));
    const g2 = temp !== 0 ? noise({ step, kind: 'confidence', shape: [b, l] }) : new Float32Array(b * l);
    const confidence = sampledLogits.map((v, i) => v + Math.fround(Math.fround(temp) * g2[i]));
    const next = new Int32Array(b * l);
    for (let r = 0; r < b; r++) {
      const row = confidence.slice(r * l, (r + 1) * l);
      const cut = Float32Array.from(row).sort()[maskLen - 1];
      for (let i = 0; i < l; i++) next[r * l + i] = step === s.steps - 1 || row[i] > cut ? sampled[r * l + i] : K;
    }
    ids = next;
    perStep.push(ids.slice());
    if (s.guidanceDecay === 'linear') cfg = ratio * s.guidanceScale;
  }
  return perStep;
}

describe(`sampling on ${process.env.VTOK_TEST_BACKEND ?? 'cpu'}`, () => {
  const cases: [string, 'ViT' | 'UViT', number[], Settings][] = [
    ['ImageBert, linear guidance, annealing', 'ViT', [8], { steps: 5, guidanceScale: 4.5, guidanceDecay: 'linear', guidanceScalePow: 3, randomizeTemperature: 9.5, softmaxTemperatureAnnealing: true }],
    ['ImageBert 2D grid, constant guidance', 'ViT', [3, 3], { steps: 4, guidanceScale: 2, guidanceDecay: 'constant', guidanceScalePow: 3, randomizeTemperature: 2, softmaxTemperatureAnnealing: false }],
    ['UViTBert, power-cosine guidance', 'UViT', [10], { steps: 6, guidanceScale: 6.9, guidanceDecay: 'power-cosine', guidanceScalePow: 2.5, randomizeTemperature: 2.8, softmaxTemperatureAnnealing: true }],
  ];
  for (const [label, type, shape, settings] of cases) {
    it(`${label}: with injected noise, every step equals the official loop`, async () => {
      const model = tiny(type, shape);
      randomizeParams(model, 12);
      const classes = [1, 4, 0];
      const expected = await officialGenerate(model, classes, settings, replayableNoise(5));
      const events: MaskGITStepEvent[] = [];
      const before = tf.memory().numTensors;
      const out = await model.sample({ classes, ...settings, noise: replayableNoise(5), onProgress: (e) => events.push(e) });
      expect(tf.memory().numTensors - before).toBe(1);
      expect(out.shape).toEqual([3, ...shape]);
      expect(events.map((e) => Array.from(e.tokens))).toEqual(expected.map((ids) => Array.from(ids)));
      expect(Array.from(await out.data())).toEqual(Array.from(expected[expected.length - 1]));
      // A real sample: no mask id is left, every token is an image code.
      expect(Array.from(await out.data()).every((v) => v >= 0 && v < model.vocabulary.codebookSize)).toBe(true);
      out.dispose();
      model.dispose();
    });
  }

  it('is reproducible with a seed on this backend, and another seed gives other tokens', async () => {
    const model = tiny('ViT', [8]);
    randomizeParams(model, 13);
    const run = async (seed: number) => {
      const t = await model.sample({ classes: [0, 1, 2, 3], steps: 4, randomizeTemperature: 20, seed });
      const v = Array.from(await t.data());
      t.dispose();
      return v;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(await run(43)).not.toEqual(a);
    model.dispose();
  });

  it('uses the schedule option, by name and as a function', async () => {
    const model = tiny('ViT', [8]);
    const masks = async (schedule: any) => {
      const lengths: number[] = [];
      (await model.sample({ classes: [0], steps: 4, seed: 1, schedule, onProgress: (e) => lengths.push(e.maskLength) })).dispose();
      return lengths;
    };
    expect(await masks('linear')).toEqual([6, 4, 2, 1]);
    expect(await masks('arccos')).toEqual([Math.floor(8 * resolveMaskSchedule('arccos')(0.25)), 5, 3, 1]);
    expect(await masks((r: number) => (r < 1 ? 0.5 : 0))).toEqual([4, 3, 2, 1]);
    model.dispose();
  });

  it('stops within one step on abort, throws AbortError and leaks nothing', async () => {
    const model = tiny('ViT', [8]);
    const before = tf.memory().numTensors;

    // Aborted between steps (from the progress callback of step 2).
    const controller = new AbortController();
    const seen: number[] = [];
    await expect(
      model.sample({ classes: [0, 1], steps: 6, seed: 1, signal: controller.signal, onProgress: (e) => (seen.push(e.step), e.step === 2 && controller.abort()) }),
    ).rejects.toThrow(AbortError);
    expect(seen).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);

    // Aborted in the middle of step 3 (while its logits exist): the step does not finish.
    const mid = new AbortController();
    const finished: number[] = [];
    await expect(
      model.sample({
        classes: [0, 1],
        steps: 6,
        seed: 1,
        signal: mid.signal,
        onLogits: (step) => step === 2 && mid.abort(new Error('user pressed stop')),
        onProgress: (e) => finished.push(e.step),
      }),
    ).rejects.toThrow(/aborted during step 3 of 6 \(user pressed stop\)/);
    expect(finished).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);

    // Already aborted: no forward pass at all.
    let forwards = 0;
    await expect(model.sample({ classes: [0], signal: AbortSignal.abort(), onLogits: () => forwards++ })).rejects.toThrow(/before step 1/);
    expect(forwards).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('leaks nothing when a callback or the noise source fails', async () => {
    const model = tiny('ViT', [8]);
    const before = tf.memory().numTensors;
    await expect(model.sample({ classes: [0], steps: 3, randomizeTemperature: 1, noise: () => new Float32Array(3) })).rejects.toThrow(ShapeError);
    await expect(model.sample({ classes: [0], steps: 3, onProgress: () => { throw new Error('callback failed'); } })).rejects.toThrow('callback failed');
    await expect(model.sample({ classes: [0], steps: 3, onLogits: () => { throw new Error('inspector failed'); } })).rejects.toThrow('inspector failed');
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
