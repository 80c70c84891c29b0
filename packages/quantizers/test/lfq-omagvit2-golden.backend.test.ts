// Golden parity with Open-MAGVIT2's own `LFQ` (TencentARC/SEED-Voken, fixture omagvit2_lfq_tiny) on the
// active backend, including its token factorisation. Tolerance: the fixture's (golden README §Tolerance):
// |ours - ref| <= 1e-4 + 1e-4·|ref| per element; ids exact.
import * as tf from '@tensorflow/tfjs-core';
import { channelsLast, expectAllClose, expectExact, goldenCase, tensorOf } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { LFQ_PRESETS, LookupFreeQuantizer } from '../src/lfq';

const golden = goldenCase('omagvit2_lfq_tiny');
const cfg = golden.json.config;
const tol = golden.tolerance;
const io = golden.io;

/** Open-MAGVIT2's LFQ with the loss weights its configs apply outside it (aux = its quant_loss). */
function omagvit2Lfq(): LookupFreeQuantizer {
  return new LookupFreeQuantizer({
    ...LFQ_PRESETS.openMagvit2,
    dim: cfg.dim,
    codebookSize: cfg.codebook_size,
    sampleMinimizationWeight: cfg.sample_minimization_weight,
    diversityGamma: cfg.batch_maximization_weight,
    invTemperature: 1 / cfg.entropy_temperature,
    entropyLossWeight: cfg.loss_weights.codebook_weight,
    commitmentLossWeight: cfg.loss_weights.commit_weight,
    factorizedBits: cfg.factorized_bits,
  });
}

/** The official layout: channel-first input, flat ids. Ours: channels-last input, ids [B, ...spatial]. */
function quantizeChannelFirst(lfq: LookupFreeQuantizer, name: string, training: boolean) {
  const z = tensorOf(channelsLast(io[name]));
  const r = lfq.quantize(z, { training });
  z.dispose();
  const flat = tf.reshape(r.indices, [-1]);
  return { ...r, flat, dispose: () => tf.dispose([r.quantized, r.indices, flat, ...Object.values(r.losses)]) };
}

describe('LFQ golden parity: Open-MAGVIT2 (omagvit2_lfq_tiny)', () => {
  it('the fixture uses only what this port implements', () => {
    expect(cfg.num_codebooks).toBe(1);
    expect(cfg.token_factorization).toBe(false);
    expect(cfg.entropy_eps).toBe(1e-5);
    expect(cfg.loss_weights.codebook_enlarge_ratio).toBe(0);
    expect(Object.keys(golden.json.weights.tensors), 'Open-MAGVIT2 LFQ has no state-dict keys').toEqual([]);
  });

  for (const input of ['x', 'x_vid']) {
    it(`eval on input.${input}: quantized, LSB-first flat indices, zero losses upstream`, async () => {
      const r = quantizeChannelFirst(omagvit2Lfq(), `input.${input}`, false);
      await expectAllClose(r.quantized, channelsLast(io[`eval.${input}.quantized`]), tol, `eval.${input}.quantized`);
      await expectExact(r.flat, io[`eval.${input}.indices`], `eval.${input}.indices`);
      expect(Object.keys(r.losses)).toEqual([]);
      expect(io[`eval.${input}.entropy_aux_loss`].data[0]).toBe(0);
      expect(io[`eval.${input}.commitment`].data[0]).toBe(0);
      r.dispose();
    });
  }

  it('lookup = get_codebook_entry (ids -> ±1 codes) and indices_to_bits', async () => {
    const lfq = omagvit2Lfq();
    const [b, , h, w] = io['input.x'].shape;
    const ids = tf.tensor(io['eval.x.indices'].data, [b, h, w], 'int32');
    const codes = lfq.lookup(ids);
    await expectAllClose(codes, channelsLast(io['eval.get_codebook_entry']), tol, 'eval.get_codebook_entry');
    const bits = tf.reshape(tf.div(tf.add(codes, 1), 2), [-1, lfq.dim]);
    await expectAllClose(bits, io['eval.indices_to_bits'], tol, 'eval.indices_to_bits');
    tf.dispose([ids, codes, bits]);
  });

  for (const input of ['x', 'x_soft', 'x_vid']) {
    it(`train on input.${input}: quantized, indices and every loss`, async () => {
      const r = quantizeChannelFirst(omagvit2Lfq(), `input.${input}`, true);
      await expectAllClose(r.quantized, channelsLast(io[`train.${input}.quantized`]), tol, `train.${input}.quantized`);
      await expectExact(r.flat, io[`train.${input}.indices`], `train.${input}.indices`);
      const { aux, perSampleEntropy, codebookEntropy, commitment } = r.losses;
      await expectAllClose(perSampleEntropy, io[`train.${input}.per_sample_entropy`], tol, `train.${input}.per_sample_entropy`);
      await expectAllClose(codebookEntropy, io[`train.${input}.codebook_entropy`], tol, `train.${input}.codebook_entropy`);
      await expectAllClose(commitment, io[`train.${input}.commitment`], tol, `train.${input}.commitment`);
      await expectAllClose(aux, io[`train.${input}.quant_loss`], tol, `train.${input}.quant_loss`);
      // entropy_aux_loss = sample_minimization_weight·H_sample − batch_maximization_weight·H_codebook
      const entropyAux = tf.sub(tf.mul(perSampleEntropy, cfg.sample_minimization_weight), tf.mul(codebookEntropy, cfg.batch_maximization_weight));
      await expectAllClose(entropyAux, io[`train.${input}.entropy_aux_loss`], tol, `train.${input}.entropy_aux_loss`);
      entropyAux.dispose();
      r.dispose();
    });
  }

  it('token factorisation: pre/post sub-token ids and their concatenated codes', async () => {
    const lfq = omagvit2Lfq();
    const r = quantizeChannelFirst(lfq, 'input.x', false);
    const factorization = lfq.factorization();
    expect(factorization.bits).toEqual(cfg.factorized_bits);
    const [pre, post] = factorization.split(r.flat);
    await expectExact(pre, io['factorized.x.indices_pre'], 'factorized.x.indices_pre');
    await expectExact(post, io['factorized.x.indices_post'], 'factorized.x.indices_post');
    const merged = factorization.merge([pre, post]);
    const [b, , h, w] = io['input.x'].shape;
    const ids = tf.reshape(merged, [b, h, w]);
    const codes = lfq.lookup(ids);
    await expectAllClose(codes, channelsLast(io['factorized.x.codes']), tol, 'factorized.x.codes');
    tf.dispose([pre, post, merged, ids, codes]);
    r.dispose();
  });
});
