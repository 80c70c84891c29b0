/**
 * Golden parity with the official Open-MAGVIT2 image tokenizer, on a square and a non-square input
 * (fixtures omagvit2_image_tiny, 32×32, and omagvit2_image_rect_tiny, 16×40 -> an 8×20 token grid; made
 * by TencentARC/SEED-Voken's own Encoder / Decoder / LFQ through VQModel.encode / decode). The model is
 * loaded the way a user loads one: loadMagvit2 on the folder layout (config.json + model.safetensors).
 * Sizes come from each case's config (image_hw, latent_hw). The Tokenizer contract is also checked with
 * the model configured for another size than the input: encode and decode follow the input.
 * Tolerance: the golden README's, |ours − ref| <= 1e-4 + 1e-4·|ref| elementwise; ids exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelsFirst, channelsLast, expectAllClose, expectExact, goldenCase } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMagvit2, type Magvit2Tokenizer } from '../src';
import { caseFiles, golden } from './helpers/golden';

/** Collects named intermediates (as NCHW, like the fixture) while a forward pass runs. */
function recorder(): { stages: Record<string, tf.Tensor>; onStage: (name: string, t: tf.Tensor) => void } {
  const stages: Record<string, tf.Tensor> = {};
  return { stages, onStage: (name, t) => (stages[name] = channelsFirst(t)) };
}

describe.each(['omagvit2_image_tiny', 'omagvit2_image_rect_tiny'])('%s', (caseName) => {
  const c = goldenCase(caseName);
  const [H, W] = c.config.image_hw as number[];
  const [h, w] = c.config.latent_hw as number[];
  /** Configured at the fixture's size. */
  let tok: Magvit2Tokenizer;
  /** The same weights configured for twice the fixture's size: its default token space is not the input's. */
  let other: Magvit2Tokenizer;

  beforeAll(async () => {
    tok = await loadMagvit2(caseFiles(c));
    other = await loadMagvit2(caseFiles(c), { imageSize: [2 * H, 2 * W] });
  });
  afterAll(() => {
    tok?.dispose();
    other?.dispose();
  });

  it('reads the sizes from the fixture config; tokens and inputShape report the configured size', () => {
    expect(tok.inputShape).toEqual([H, W, 3]);
    expect(tok.tokens).toEqual({ vocabSize: c.config.n_embed, shape: [h, w] });
    expect([H / h, W / w]).toEqual([tok.factor, tok.factor]);
    expect(other.inputShape).toEqual([2 * H, 2 * W, 3]);
    expect(other.tokens).toEqual({ vocabSize: c.config.n_embed, shape: [2 * h, 2 * w] });
    expect(other.tokenShapeFor([H, W, 3])).toEqual([h, w]);
    expect(other.outputShapeFor([h, w])).toEqual([H, W, 3]);
  });

  it('encoder: every stored intermediate, the latent, the quantised latent and the ids match', async () => {
    const x = channelsLast(golden(c, 'input.image'));
    const { stages, onStage } = recorder();
    const z = tok.model.encodeLatent(x, { onStage });
    const checked = Object.keys(stages).filter((k) => c.io[k]);
    expect(checked).toEqual(['enc.down0', 'enc.down1', 'enc.mid', 'enc.out'].filter((k) => c.io[k]));
    for (const name of checked) await expectAllClose(stages[name], c.io[name], c.tolerance, name);
    const q = tok.model.quantize(z);
    await expectExact(tf.reshape(q.indices, [-1]), c.io['quant.indices'], 'quant.indices');
    await expectAllClose(channelsFirst(q.quantized), c.io['quant.quantized'], c.tolerance, 'quant.quantized');
    // Training mode: the LFQ losses of VQModel.forward (released weights 0.1 / 0.25).
    const t = tok.model.quantize(z, { training: true });
    await expectAllClose(t.losses.perSampleEntropy, c.io['train.per_sample_entropy'], c.tolerance, 'train.per_sample_entropy');
    await expectAllClose(t.losses.codebookEntropy, c.io['train.codebook_entropy'], c.tolerance, 'train.codebook_entropy');
    await expectAllClose(tf.sub(t.losses.perSampleEntropy, t.losses.codebookEntropy), c.io['train.entropy_aux_loss'], c.tolerance, 'train.entropy_aux_loss');
    await expectAllClose(t.losses.commitment, c.io['train.commitment'], c.tolerance, 'train.commitment');
    await expectAllClose(t.losses.aux, c.io['train.quant_loss'], c.tolerance, 'train.quant_loss');
    tf.dispose([x, z, q.quantized, q.indices, t.quantized, t.indices, ...Object.values(t.losses), ...Object.values(q.losses), ...Object.values(stages)]);
  });

  it('decoder: adaptive GroupNorm scale/bias, every stored intermediate and the image match', async () => {
    const zq = channelsLast(golden(c, 'quant.quantized'));
    const { stages, onStage } = recorder();
    const y = tok.model.decodeLatent(zq, { onStage });
    const checked = Object.keys(stages).filter((k) => c.io[k]);
    expect(checked.length).toBeGreaterThan(0);
    for (const name of checked) await expectAllClose(stages[name], c.io[name], c.tolerance, name);
    await expectAllClose(channelsFirst(y), c.io['output.decoded'], c.tolerance, 'output.decoded');
    const levels = c.config.ddconfig.ch_mult.length;
    for (let i = 0; i < levels; i++) {
      if (!c.io[`dec.adaptive${i}.scale`]) continue;
      const { scale, bias } = tok.model.decoder!.adaptiveModulation(zq, i);
      await expectAllClose(scale, c.io[`dec.adaptive${i}.scale`], c.tolerance, `dec.adaptive${i}.scale`);
      await expectAllClose(bias, c.io[`dec.adaptive${i}.bias`], c.tolerance, `dec.adaptive${i}.bias`);
      tf.dispose([scale, bias]);
    }
    tf.dispose([zq, y, ...Object.values(stages)]);
  });

  it('token ids -> ±1 codes (get_codebook_entry) exactly', async () => {
    const ids = tf.reshape(golden(c, 'quant.indices'), [c.config.batch, h, w]);
    const codes = tok.model.codes(ids);
    await expectExact(channelsFirst(codes), c.io['decode_code.z'], 'decode_code.z');
    tf.dispose([ids, codes]);
  });

  for (const configured of ['the fixture size', 'twice the fixture size'] as const) {
    it(`Tokenizer contract, model configured for ${configured}: [0,1] images [B, H, W, 3] -> the official ids [B, h, w] -> the official image, clamped to [0,1]`, async () => {
      const t = configured === 'the fixture size' ? tok : other;
      const images = tf.tidy(() => tf.div(tf.add(channelsLast(golden(c, 'input.image')), 1), 2));
      expect(images.shape).toEqual([c.config.batch, H, W, 3]);
      const before = tf.memory().numTensors;
      const ids = await t.encode(images);
      const out = await t.decode(ids);
      expect(tf.memory().numTensors - before, 'encode + decode leave only their results').toBe(2);
      expect(ids.dtype).toBe('int32');
      const official = tf.tidy(() => tf.reshape(golden(c, 'quant.indices'), [c.config.batch, h, w]));
      await expectExact(ids, official, 'encode');
      const expected = tf.tidy(() => tf.clipByValue(tf.div(tf.add(channelsLast(golden(c, 'output.decoded')), 1), 2), 0, 1));
      await expectAllClose(out, expected, c.tolerance, 'decode (clamped to [0,1])');
      tf.dispose([images, ids, official, out, expected]);
    });
  }
});
