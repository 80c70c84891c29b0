/**
 * Parity with the official ImageBert (golden case maskgit_tiny): logits with and without the class, the
 * BERT intermediates, and the three deterministic generate() runs step by step (ids exact, per-step
 * logits and schedule numbers within the golden tolerance). Runs on cpu, wasm and webgpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GuidanceDecay } from '@vtok/core';
import { expectAllClose, goldenCase } from '@vtok/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ImageBert, type MaskGITStepEvent, loadMaskGIT } from '../src';

const golden = goldenCase('maskgit_tiny');
const cfg = golden.json.config;
// The golden README's float rule: |ours − ref| <= 1e-4 + 1e-4·|ref|, float32 computation. Ids: exact.
const TOL = golden.tolerance;
const io = golden.io;
const B = cfg.batch as number;
const L = cfg.image_seq_len as number;
const K = cfg.codebook_size as number;

const configFromCase = () => ({
  modelType: 'ViT' as const,
  codebookSize: K,
  numClasses: cfg.condition_num_classes as number,
  tokenShape: [L],
  hiddenSize: cfg.hidden_size as number,
  numLayers: cfg.num_hidden_layers as number,
  numHeads: cfg.num_attention_heads as number,
  intermediateSize: cfg.intermediate_size as number,
});

let model: ImageBert;

beforeAll(async () => {
  model = (await loadMaskGIT({ 'model.safetensors': golden.weightsBytes }, { config: configFromCase() })) as ImageBert;
});

describe(`maskgit_tiny golden parity on ${process.env.VTOK_TEST_BACKEND ?? 'cpu'}`, () => {
  it('uses the official vocabulary layout', () => {
    expect(model.vocabulary.maskId).toBe(cfg.mask_token_id);
    expect(model.vocabulary.classOffset).toBe(cfg.class_token_offset);
    expect(model.vocabulary.nullClassId).toBe(cfg.drop_label_token);
    expect(model.vocabulary.size).toBe(cfg.vocab_size);
    expect(model.tokens).toEqual({ vocabSize: K, shape: [L] });
  });

  it('matches the BERT intermediates and the logits with and without the class', async () => {
    const ids = tf.tensor(io['input.input_ids'].data, io['input.input_ids'].shape, 'int32');
    const classes = Array.from(io['input.condition'].data as Int32Array);
    const before = tf.memory().numTensors;
    const cond = model.logits(ids, classes);
    const uncond = model.logits(ids, classes, { dropCondition: true });
    expect(cond.shape).toEqual([B, L, K]);
    await expectAllClose(await cond.data(), io['output.logits_cond'].data, TOL, 'logits_cond');
    await expectAllClose(await uncond.data(), io['output.logits_uncond'].data, TOL, 'logits_uncond');
    tf.dispose([cond, uncond]);
    expect(tf.memory().numTensors, 'logits() leaves nothing behind').toBe(before);

    // Intermediates, to point at the broken step when the logits differ.
    const sequence = tf.concat([tf.tensor2d(classes.map((c) => c + model.vocabulary.classOffset), [B, 1], 'int32'), ids], 1);
    let x = model.model.embeddings.forward(sequence);
    await expectAllClose(await x.data(), io['bert.embeddings'].data, TOL, 'bert.embeddings');
    for (let i = 0; i < model.config.numLayers; i++) {
      const next = model.model.encoder.layer.at(i).forward(x);
      x.dispose();
      x = next;
      await expectAllClose(await x.data(), io[`bert.layer${i}`].data, TOL, `bert.layer${i}`);
    }
    tf.dispose([x, sequence, ids]);
  });

  const deterministicRuns = Object.entries(golden.json.schedules as Record<string, any>).filter(([, s]) => s.deterministic);
  it('covers the three guidance modes', () => {
    expect(deterministicRuns.map(([, s]) => s.kwargs.guidance_decay).sort()).toEqual(['constant', 'linear', 'power-cosine']);
  });

  for (const [run, schedule] of deterministicRuns) {
    it(`${run}: generate() gives the official ids at every step`, async () => {
      const kw = schedule.kwargs;
      const steps = kw.num_sample_steps as number;
      const events: MaskGITStepEvent[] = [];
      const logits: tf.Tensor[] = [];
      const before = tf.memory().numTensors;
      const out = await model.sample({
        classes: Array.from(io['input.condition'].data as Int32Array),
        steps,
        guidanceScale: kw.guidance_scale,
        guidanceDecay: kw.guidance_decay as GuidanceDecay,
        guidanceScalePow: kw.guidance_scale_pow ?? 3.0,
        randomizeTemperature: kw.randomize_temperature,
        softmaxTemperatureAnnealing: kw.softmax_temperature_annealing,
        noise: () => {
          throw new Error('a greedy run (temperature 0) must not draw noise');
        },
        onProgress: (e) => events.push(e),
        onLogits: (_, t) => logits.push(tf.clone(t)),
      });
      expect(tf.memory().numTensors - before - logits.length, 'sample() keeps only its output').toBe(1);
      expect(out.shape).toEqual([B, L]);
      expect(out.dtype).toBe('int32');
      expect(events.map((e) => e.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));

      const idsIn = io[`${run}.ids_in`].data as Int32Array;
      const idsOut = io[`${run}.ids_out`].data as Int32Array;
      const sampledRef = io[`${run}.sampled_ids`].data as Int32Array;
      const logitsRef = io[`${run}.logits`].data as Float32Array;
      const n = B * L;
      let previous: Int32Array = new Int32Array(n).fill(model.vocabulary.maskId);
      for (let s = 0; s < steps; s++) {
        const e = events[s];
        const ref = schedule.steps[s];
        expect(Array.from(previous), `${run} step ${s}: ids in`).toEqual(Array.from(idsIn.subarray(s * n, (s + 1) * n)));
        await expectAllClose(await logits[s].data(), logitsRef.subarray(s * n * K, (s + 1) * n * K), TOL, `${run} step ${s}: guided logits`);
        expect(Array.from(e.sampled), `${run} step ${s}: sampled ids`).toEqual(Array.from(sampledRef.subarray(s * n, (s + 1) * n)));
        expect(Array.from(e.tokens), `${run} step ${s}: ids out`).toEqual(Array.from(idsOut.subarray(s * n, (s + 1) * n)));
        expect(e.maskLength, `${run} step ${s}: mask_len`).toBe(ref.mask_len);
        expect(e.guidanceScale, `${run} step ${s}: cfg_scale`).toBeCloseTo(ref.cfg_scale, 6);
        expect(e.temperature, `${run} step ${s}: annealed temperature`).toBe(ref.annealed_temp);
        expect(e.softmaxTemperature, `${run} step ${s}: softmax temperature`).toBeCloseTo(ref.softmax_temperature ?? 1, 12);
        previous = e.tokens;
      }
      expect(Array.from(await out.data())).toEqual(Array.from(io[`${run}.output`].data));
      tf.dispose([out, ...logits]);
    });
  }

  it("gen_random: the schedule numbers of a sampled run match (its ids depend on torch's RNG)", async () => {
    const schedule = golden.json.schedules.gen_random;
    const kw = schedule.kwargs;
    const events: MaskGITStepEvent[] = [];
    const out = await model.sample({
      classes: Array.from(io['input.condition'].data as Int32Array),
      steps: kw.num_sample_steps,
      guidanceScale: kw.guidance_scale,
      guidanceDecay: kw.guidance_decay,
      randomizeTemperature: kw.randomize_temperature,
      softmaxTemperatureAnnealing: kw.softmax_temperature_annealing,
      seed: 7,
      onProgress: (e) => events.push(e),
    });
    out.dispose();
    schedule.steps.forEach((ref: any, s: number) => {
      expect(events[s].temperature, `step ${s} temperature`).toBeCloseTo(ref.annealed_temp, 12);
      expect(events[s].guidanceScale, `step ${s} cfg`).toBeCloseTo(ref.cfg_scale, 12);
      expect(events[s].maskLength, `step ${s} mask_len`).toBe(ref.mask_len);
    });
  });
});
