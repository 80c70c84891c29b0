/**
 * Golden parity with the official causal 3D video decoder (fixture omagvit2_video_decoder_tiny:
 * SEED-Voken's improved_video_model.Decoder through video_lfqgan.VQModel.decode), with both up-sampler
 * kinds (time + space with the frame drop, space only), loaded through loadMagvit2 (decoder-only: the
 * fixture holds the decoder's weights). Latent frame 0 decoded alone differs from the clip's first
 * frame under the official whole-clip statistics (recorded), and equals it exactly under 'causal'.
 * Tolerance: |ours − ref| <= 1e-4 + 1e-4·|ref| elementwise; ids and codes exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelsFirst, channelsLast, expectAllClose, expectExact, goldenCase } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMagvit2, type Magvit2Tokenizer } from '../src';
import { caseFiles, golden } from './helpers/golden';

const c = goldenCase('omagvit2_video_decoder_tiny');
const B = c.config.batch as number;
const [t, h, w] = c.config.latent_thw as number[];
const [T, H, W] = c.config.output_thw as number[];
let tok: Magvit2Tokenizer;
let causal: Magvit2Tokenizer;

beforeAll(async () => {
  tok = await loadMagvit2(caseFiles(c), { parts: ['decoder'] });
  causal = await loadMagvit2(caseFiles(c), { parts: ['decoder'], normalization: 'causal' });
});
afterAll(() => {
  tok?.dispose();
  causal?.dispose();
});

const firstFrame = (x: tf.Tensor) => tf.slice(x, [0, 0, 0, 0, 0], [x.shape[0], 1, -1, -1, -1]);

describe('omagvit2_video_decoder_tiny (official whole-clip GroupNorm)', () => {
  it('reads the sizes from the fixture config', () => {
    expect(tok.inputShape).toEqual([T, H, W, 3]);
    expect(tok.tokens).toEqual({ vocabSize: c.config.n_embed, shape: [t, h, w] });
  });

  it('ids -> codes, every stored intermediate (incl. both up-samplers and AdaGN scale/bias) and the clip match', async () => {
    const ids = golden(c, 'input.indices');
    const zq = tok.model.codes(ids);
    await expectExact(channelsFirst(zq), c.io['dec.in'], 'dec.in');
    const stages: Record<string, tf.Tensor> = {};
    const y = tok.model.decodeLatent(zq, { onStage: (n, v) => (stages[n] = channelsFirst(v)) });
    const checked = Object.keys(stages).filter((k) => c.io[k]);
    expect(checked).toEqual(expect.arrayContaining(['dec.conv_in', 'dec.up2.upsample.conv1', 'dec.up2'].filter((k) => c.io[k])));
    for (const name of checked) await expectAllClose(stages[name], c.io[name], c.tolerance, name);
    await expectAllClose(channelsFirst(y), c.io['output.decoded'], c.tolerance, 'output.decoded');
    for (let i = 0; i < c.config.ddconfig.ch_mult.length; i++) {
      if (!c.io[`dec.adaptive${i}.scale`]) continue;
      const { scale, bias } = tok.model.decoder!.adaptiveModulation(zq, i);
      await expectAllClose(scale, c.io[`dec.adaptive${i}.scale`], c.tolerance, `dec.adaptive${i}.scale`);
      await expectAllClose(bias, c.io[`dec.adaptive${i}.bias`], c.tolerance, `dec.adaptive${i}.bias`);
      tf.dispose([scale, bias]);
    }
    tf.dispose([ids, zq, y, ...Object.values(stages)]);
  });

  it('Tokenizer contract: official ids [B, t, h, w] -> the official clip in [0,1]', async () => {
    const ids = golden(c, 'input.indices');
    const before = tf.memory().numTensors;
    const out = await tok.decode(ids);
    expect(tf.memory().numTensors - before).toBe(1);
    const expected = tf.tidy(() => tf.clipByValue(tf.div(tf.add(channelsLast(golden(c, 'output.decoded')), 1), 2), 0, 1));
    await expectAllClose(out, expected, c.tolerance, 'decode');
    tf.dispose([ids, out, expected]);
  });

  it('Tokenizer contract at another grid: latent frame 0 alone, [B, 1, h, w] -> the official one-frame clip [B, 1, H, W, 3]', async () => {
    const ids = tf.tidy(() => tf.slice(golden(c, 'input.indices'), [0, 0, 0, 0], [B, 1, h, w]));
    expect(tok.outputShapeFor(ids.shape.slice(1))).toEqual([1, H, W, 3]);
    const before = tf.memory().numTensors;
    const out = await tok.decode(ids);
    expect(tf.memory().numTensors - before).toBe(1);
    const expected = tf.tidy(() => tf.clipByValue(tf.div(tf.add(channelsLast(golden(c, 'frame0.output')), 1), 2), 0, 1));
    await expectAllClose(out, expected, c.tolerance, 'decode (latent frame 0 alone)');
    tf.dispose([ids, out, expected]);
  });

  it('latent frame 0 decoded alone is as recorded, and differs from the clip\'s first frame (the recorded mismatch)', async () => {
    const zq = tok.model.codes(golden(c, 'input.indices'));
    const alone = tok.model.decodeLatent(firstFrame(zq));
    await expectAllClose(channelsFirst(alone), c.io['frame0.output'], c.tolerance, 'frame0.output');
    const whole = tok.model.decodeLatent(zq);
    const diff = tf.max(tf.abs(tf.sub(firstFrame(whole), alone)));
    expect((await diff.data())[0]).toBeCloseTo(c.json.frame0_check.max_abs_diff, 3);
    tf.dispose([zq, alone, whole, diff]);
  });
});

describe('omagvit2_video_decoder_tiny with strictly causal normalisation', () => {
  it('latent frame 0 decoded alone gives exactly the first frame of the decoded clip', async () => {
    const ids = golden(c, 'input.indices');
    const clip = await causal.decode(ids);
    const zq = causal.model.codes(ids);
    const alone = causal.decodeLatents(firstFrame(zq));
    expect(alone.shape).toEqual([B, 1, H, W, 3]);
    expect(Array.from(await firstFrame(clip).data())).toEqual(Array.from(await alone.data()));
    tf.dispose([ids, clip, zq, alone]);
  });

  it('no output frame depends on a later latent frame', async () => {
    const zq = causal.model.codes(golden(c, 'input.indices'));
    const changed = tf.concat([tf.slice(zq, [0, 0, 0, 0, 0], [B, t - 1, -1, -1, -1]), tf.neg(tf.slice(zq, [0, t - 1, 0, 0, 0], [B, 1, -1, -1, -1]))], 1);
    const a = causal.model.decodeLatent(zq);
    const b = causal.model.decodeLatent(changed);
    // The last latent frame feeds only the output frames made from it: with temporal up-sampling
    // t -> 2t − 1 per level, the frames before decodedFrames(t − 1) do not see it.
    const unaffected = causal.decodedFrames(t - 1);
    expect(unaffected).toBeGreaterThan(0);
    expect(Array.from(await tf.slice(a, [0, 0, 0, 0, 0], [B, unaffected, -1, -1, -1]).data())).toEqual(
      Array.from(await tf.slice(b, [0, 0, 0, 0, 0], [B, unaffected, -1, -1, -1]).data()),
    );
    const last = tf.max(tf.abs(tf.sub(tf.slice(a, [0, T - 1, 0, 0, 0], [B, 1, -1, -1, -1]), tf.slice(b, [0, T - 1, 0, 0, 0], [B, 1, -1, -1, -1]))));
    expect((await last.data())[0]).toBeGreaterThan(1e-3);
    tf.dispose([zq, changed, a, b, last]);
  });
});
