/**
 * Golden parity of the tokenizer's quantiser with Open-MAGVIT2's own LFQ (fixture omagvit2_lfq_tiny:
 * SEED-Voken's lookup_free_quantize.LFQ with the released loss weights): the quantiser exactly as
 * loadMagvit2 configures it (createMagvit2Quantizer of an Open-MAGVIT2 config with embed_dim = the
 * fixture's dim), LSB-first ids, ±1 codes, the training losses, and the token factorisation.
 * Tolerance: |ours − ref| <= 1e-4 + 1e-4·|ref|; ids, codes and bits exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { channelsFirst, channelsLast, expectAllClose, expectExact, goldenCase } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createMagvit2Quantizer, magvit2TokenFactorization, parseMagvit2Config } from '../src';
import { golden } from './helpers/golden';

const c = goldenCase('omagvit2_lfq_tiny');
const D = c.config.dim as number;
const [h, w] = c.config.img_hw as number[];
const config = parseMagvit2Config({
  model: {
    class_path: 'src.Open_MAGVIT2.models.lfqgan.VQModel',
    init_args: {
      // The quantiser only depends on these; the network around it is the smallest valid one.
      ddconfig: { ch: 32, ch_mult: [1], num_res_blocks: 1, z_channels: D, in_channels: 3, out_ch: 3, resolution: 8 },
      embed_dim: D,
      n_embed: c.config.codebook_size,
      sample_minimization_weight: c.config.sample_minimization_weight,
      batch_maximization_weight: c.config.batch_maximization_weight,
      lossconfig: { params: { codebook_weight: c.config.loss_weights.codebook_weight, commit_weight: c.config.loss_weights.commit_weight } },
      factorized_bits: c.config.factorized_bits,
    },
  },
});
const lfq = createMagvit2Quantizer(config);

afterAll(() => lfq.dispose());

describe('omagvit2_lfq_tiny', () => {
  for (const input of ['x', 'x_vid']) {
    it(`eval: ±1 codes and LSB-first ids of input.${input}`, async () => {
      const z = channelsLast(golden(c, `input.${input}`));
      const q = lfq.quantize(z);
      await expectExact(channelsFirst(q.quantized), c.io[`eval.${input}.quantized`], `eval.${input}.quantized`);
      await expectExact(tf.reshape(q.indices, [-1]), c.io[`eval.${input}.indices`], `eval.${input}.indices`);
      expect(Object.keys(q.losses)).toEqual([]); // eval mode: no losses (upstream returns zeros)
      tf.dispose([z, q.quantized, q.indices]);
    });
  }

  it('ids -> codes (get_codebook_entry) and bits (indices_to_bits)', async () => {
    const ids = tf.reshape(golden(c, 'eval.x.indices'), [c.config.batch, h, w]);
    const codes = lfq.lookup(ids);
    await expectExact(channelsFirst(codes), c.io['eval.get_codebook_entry'], 'eval.get_codebook_entry');
    const bits = tf.tidy(() => tf.cast(tf.greater(tf.reshape(codes, [-1, D]), 0), 'int32'));
    await expectExact(bits, c.io['eval.indices_to_bits'], 'eval.indices_to_bits');
    tf.dispose([ids, codes, bits]);
  });

  for (const input of ['x', 'x_soft', 'x_vid']) {
    it(`training losses of input.${input}: per-sample and codebook entropy, commitment, quantiser loss`, async () => {
      const z = channelsLast(golden(c, `input.${input}`));
      const q = lfq.quantize(z, { training: true });
      const p = `train.${input}`;
      await expectExact(channelsFirst(q.quantized), c.io[`${p}.quantized`], `${p}.quantized`);
      await expectExact(tf.reshape(q.indices, [-1]), c.io[`${p}.indices`], `${p}.indices`);
      await expectAllClose(q.losses.perSampleEntropy, c.io[`${p}.per_sample_entropy`], c.tolerance, `${p}.per_sample_entropy`);
      await expectAllClose(q.losses.codebookEntropy, c.io[`${p}.codebook_entropy`], c.tolerance, `${p}.codebook_entropy`);
      const entropyAux = tf.sub(q.losses.perSampleEntropy, q.losses.codebookEntropy);
      await expectAllClose(entropyAux, c.io[`${p}.entropy_aux_loss`], c.tolerance, `${p}.entropy_aux_loss`);
      await expectAllClose(q.losses.commitment, c.io[`${p}.commitment`], c.tolerance, `${p}.commitment`);
      await expectAllClose(q.losses.aux, c.io[`${p}.quant_loss`], c.tolerance, `${p}.quant_loss`);
      tf.dispose([z, q.quantized, q.indices, entropyAux, ...Object.values(q.losses)]);
    });
  }

  it('token factorisation [pre, post] as the AR stage uses it, and the codes of the two halves', async () => {
    const fac = magvit2TokenFactorization(config, c.config.factorized_bits);
    const ids = tf.reshape(golden(c, 'eval.x.indices'), [c.config.batch, h, w]);
    const [pre, post] = fac.split(ids);
    await expectExact(tf.reshape(pre, [-1]), c.io['factorized.x.indices_pre'], 'factorized.x.indices_pre');
    await expectExact(tf.reshape(post, [-1]), c.io['factorized.x.indices_post'], 'factorized.x.indices_post');
    const merged = fac.merge([pre, post]);
    await expectExact(merged, ids, 'merge(split(ids))');
    // Concatenating the sub-codes along channels gives the code of the full id.
    const codes = lfq.lookup(merged);
    await expectExact(channelsFirst(codes), c.io['factorized.x.codes'], 'factorized.x.codes');
    tf.dispose([ids, pre, post, merged, codes]);
  });
});
