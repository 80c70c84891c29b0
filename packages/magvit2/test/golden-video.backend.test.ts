/**
 * Golden parity with the official causal 3D video encoder (fixture omagvit2_video_tiny: SEED-Voken's
 * improved_video_model.Encoder + LFQ through video_lfqgan.VQModel.encode), loaded through loadMagvit2
 * (encoder-only: the fixture holds the encoder's weights). Also the frame-0 behaviour: with the official
 * whole-clip GroupNorm, frame 0 of a clip does NOT tokenise as the same frame alone (recorded in the
 * fixture, reproduced here); with normalization 'causal' it does, exactly.
 * Tolerance: |ours − ref| <= 1e-4 + 1e-4·|ref| elementwise; ids exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelsFirst, channelsLast, expectAllClose, expectExact, goldenCase } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMagvit2, type Magvit2Tokenizer } from '../src';
import { caseFiles, golden } from './helpers/golden';

const c = goldenCase('omagvit2_video_tiny');
const [B, T, H, W] = [c.config.batch, ...c.config.video_thw] as number[];
const [t, h, w] = c.config.latent_thw as number[];
let tok: Magvit2Tokenizer;
let causal: Magvit2Tokenizer;

beforeAll(async () => {
  tok = await loadMagvit2(caseFiles(c), { parts: ['encoder'] });
  causal = await loadMagvit2(caseFiles(c), { parts: ['encoder'], normalization: 'causal' });
});
afterAll(() => {
  tok?.dispose();
  causal?.dispose();
});

const clip = () => channelsLast(golden(c, 'input.video')); // [B, T, H, W, 3] in [-1, 1]
const firstFrame = (x: tf.Tensor) => tf.slice(x, [0, 0, 0, 0, 0], [x.shape[0], 1, -1, -1, -1]);

describe('omagvit2_video_tiny (official whole-clip GroupNorm)', () => {
  it('reads the sizes from the fixture config', () => {
    expect(tok.inputShape).toEqual([T, H, W, 3]);
    expect(tok.tokens).toEqual({ vocabSize: c.config.n_embed, shape: [t, h, w] });
  });

  it('encoder intermediates, latent, quantised latent, ids and training losses match', async () => {
    const x = clip();
    const stages: Record<string, tf.Tensor> = {};
    const z = tok.model.encodeLatent(x, { onStage: (n, v) => (stages[n] = channelsFirst(v)) });
    const checked = Object.keys(stages).filter((k) => c.io[k]);
    expect(checked).toEqual(['enc.down0', 'enc.mid', 'enc.out'].filter((k) => c.io[k]));
    for (const name of checked) await expectAllClose(stages[name], c.io[name], c.tolerance, name);
    const q = tok.model.quantize(z);
    await expectExact(tf.reshape(q.indices, [-1]), c.io['quant.indices'], 'quant.indices');
    await expectAllClose(channelsFirst(q.quantized), c.io['quant.quantized'], c.tolerance, 'quant.quantized');
    const tr = tok.model.quantize(z, { training: true });
    await expectAllClose(tr.losses.perSampleEntropy, c.io['train.per_sample_entropy'], c.tolerance, 'train.per_sample_entropy');
    await expectAllClose(tr.losses.codebookEntropy, c.io['train.codebook_entropy'], c.tolerance, 'train.codebook_entropy');
    await expectAllClose(tr.losses.commitment, c.io['train.commitment'], c.tolerance, 'train.commitment');
    await expectAllClose(tr.losses.aux, c.io['train.quant_loss'], c.tolerance, 'train.quant_loss');
    tf.dispose([x, z, q.quantized, q.indices, tr.quantized, tr.indices, ...Object.values(tr.losses), ...Object.values(stages)]);
  });

  it('Tokenizer contract: [0,1] clips -> the official ids [B, t, h, w]', async () => {
    const clips = tf.tidy(() => tf.div(tf.add(clip(), 1), 2));
    const before = tf.memory().numTensors;
    const ids = await tok.encode(clips);
    expect(tf.memory().numTensors - before).toBe(1);
    const official = tf.reshape(golden(c, 'quant.indices'), [B, t, h, w]);
    await expectExact(ids, official, 'encode');
    tf.dispose([clips, ids, official]);
  });

  it('Tokenizer contract at another frame count: the first frame alone, [B, 1, H, W, 3] -> the official frame-0 ids [B, 1, h, w]', async () => {
    const one = tf.tidy(() => tf.div(tf.add(firstFrame(clip()), 1), 2));
    expect(tok.tokenShapeFor(one.shape.slice(1))).toEqual([1, h, w]);
    const before = tf.memory().numTensors;
    const ids = await tok.encode(one);
    expect(tf.memory().numTensors - before).toBe(1);
    const official = tf.reshape(golden(c, 'frame0.indices'), [B, 1, h, w]);
    await expectExact(ids, official, 'encode (frame 0 alone)');
    tf.dispose([one, ids, official]);
  });

  it('frame 0 alone is encoded as recorded, and differs from frame 0 inside the clip (the recorded mismatch)', async () => {
    const x = clip();
    const alone = tok.model.encodeLatent(firstFrame(x));
    await expectAllClose(channelsFirst(alone), c.io['frame0.enc_out'], c.tolerance, 'frame0.enc_out');
    const qa = tok.model.quantize(alone);
    await expectExact(tf.reshape(qa.indices, [-1]), c.io['frame0.indices'], 'frame0.indices');
    await expectAllClose(channelsFirst(qa.quantized), c.io['frame0.quantized'], c.tolerance, 'frame0.quantized');
    // Inside the clip, latent frame 0 is normalised with all frames' statistics: not the same tokens.
    const inClip = firstFrame(channelsLast(golden(c, 'enc.out')));
    const ours = tok.model.encodeLatent(x);
    const oursFirst = firstFrame(ours);
    const diff = tf.max(tf.abs(tf.sub(oursFirst, alone)));
    const agree = tf.mean(tf.cast(tf.equal(tf.reshape(tok.model.quantize(oursFirst).indices, [-1]), tf.reshape(qa.indices, [-1])), 'float32'));
    const check = c.json.frame0_check;
    expect(check.tokens_equal).toBe(false);
    expect((await diff.data())[0]).toBeCloseTo(check.max_abs_diff_latent, 3);
    expect((await agree.data())[0]).toBeCloseTo(check.token_agreement, 6);
    await expectAllClose(oursFirst, inClip, c.tolerance, 'enc.out frame 0 (inside the clip)');
    tf.dispose([x, alone, qa.quantized, qa.indices, inClip, ours, oursFirst, diff, agree]);
  });
});

describe('omagvit2_video_tiny with strictly causal normalisation', () => {
  it('frame 0 of a clip tokenises exactly as the frame alone (same latent, same ids)', async () => {
    const clips = tf.tidy(() => tf.div(tf.add(clip(), 1), 2));
    const frame0 = firstFrame(clips);
    const zClip = await causal.encodeLatents(clips);
    const zAlone = await causal.model.encodeLatent(tf.sub(tf.mul(frame0, 2), 1));
    const first = firstFrame(zClip);
    // Bit-identical latents: the convolutions are causal and every statistic frame 0 sees is its own.
    expect(Array.from(await first.data())).toEqual(Array.from(await zAlone.data()));
    const ids = await causal.encode(clips);
    const single = causal.model.quantize(zAlone).indices;
    await expectExact(tf.slice(ids, [0, 0, 0, 0], [B, 1, h, w]), single, 'frame-0 ids');
    tf.dispose([clips, frame0, zClip, zAlone, first, ids, single]);
  });

  it('no latent frame depends on a later input frame (changing the last frame leaves the earlier latents exactly)', async () => {
    const x = clip();
    const changed = tf.tidy(() => tf.concat([tf.slice(x, [0, 0, 0, 0, 0], [B, T - 1, -1, -1, -1]), tf.neg(tf.slice(x, [0, T - 1, 0, 0, 0], [B, 1, -1, -1, -1]))], 1));
    const a = causal.model.encodeLatent(x);
    const b = causal.model.encodeLatent(changed);
    // Latent frame τ sees input frames <= τ·2^(temporal down-samplings); only the last latent frame sees frame T-1.
    const keep = t - 1;
    expect(Array.from(await tf.slice(a, [0, 0, 0, 0, 0], [B, keep, -1, -1, -1]).data())).toEqual(
      Array.from(await tf.slice(b, [0, 0, 0, 0, 0], [B, keep, -1, -1, -1]).data()),
    );
    // ...while under the official whole-clip GroupNorm every latent frame moves.
    const ca = tok.model.encodeLatent(x);
    const cb = tok.model.encodeLatent(changed);
    const moved = tf.max(tf.abs(tf.sub(tf.slice(ca, [0, 0, 0, 0, 0], [B, 1, -1, -1, -1]), tf.slice(cb, [0, 0, 0, 0, 0], [B, 1, -1, -1, -1]))));
    expect((await moved.data())[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, changed, a, b, ca, cb, moved]);
  });
});
