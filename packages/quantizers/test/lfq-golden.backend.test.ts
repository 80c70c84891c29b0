// Golden parity with lucidrains/vector-quantize-pytorch `LFQ` (fixture lfq_tiny) on the active backend.
// Tolerance: the fixture's (golden README §Tolerance): |ours - ref| <= 1e-4 + 1e-4·|ref| per element; ids exact.
import * as tf from '@tensorflow/tfjs-core';
import { channelsLast, expectAllClose, expectExact, goldenCase, tensorOf } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { LFQ_PRESETS, LookupFreeQuantizer, lfqBitWeights } from '../src/lfq';

const golden = goldenCase('lfq_tiny');
const cfg = golden.json.config;
const defaults = cfg.defaults;
const tol = golden.tolerance;
const io = golden.io;

function lucidrainsLfq(overrides: { commitmentLossWeight?: number } = {}): LookupFreeQuantizer {
  return new LookupFreeQuantizer({
    ...LFQ_PRESETS.lucidrains,
    dim: cfg.dim,
    codebookSize: cfg.codebook_size,
    entropyLossWeight: defaults.entropy_loss_weight,
    commitmentLossWeight: overrides.commitmentLossWeight ?? defaults.commitment_loss_weight,
    diversityGamma: defaults.diversity_gamma,
    codebookScale: defaults.codebook_scale,
    invTemperature: defaults.inv_temperature,
  });
}

describe('LFQ golden parity: lucidrains (lfq_tiny)', () => {
  it('the fixture uses only what this port implements', () => {
    expect(cfg.codebook_dim).toBe(cfg.dim);
    expect(cfg.has_projections).toBe(false);
    expect(defaults.num_codebooks).toBe(1);
    expect(defaults.spherical).toBe(false);
    expect(defaults.soft_clamp_input_value).toBeNull();
    expect(defaults.frac_per_sample_entropy).toBe(1);
    expect(defaults.experimental_softplus_entropy_loss).toBe(false);
  });

  it("its persistent buffer 'mask' is the MSB-first bit weights", () => {
    expect(Array.from(golden.weights.mask.data)).toEqual(lfqBitWeights(cfg.dim, 'msb'));
  });

  it('eval: quantized, MSB-first indices, no losses', async () => {
    const lfq = lucidrainsLfq();
    const r = lfq.quantize(tensorOf(io['input.x']));
    await expectAllClose(r.quantized, io['eval.x.quantized'], tol, 'eval.x.quantized');
    await expectExact(r.indices, io['eval.x.indices'], 'eval.x.indices');
    expect(Object.keys(r.losses), 'eval mode has no losses (the official aux_loss is exactly 0)').toEqual([]);
    expect(io['eval.x.aux_loss'].data[0]).toBe(0);
    tf.dispose([r.quantized, r.indices]);
  });

  it('eval on an image: channel-first input moved last gives the same codes and [B,H,W] ids', async () => {
    const lfq = lucidrainsLfq();
    const r = lfq.quantize(tensorOf(channelsLast(io['input.x_img'])));
    await expectAllClose(r.quantized, channelsLast(io['eval.x_img.quantized']), tol, 'eval.x_img.quantized');
    await expectExact(r.indices, io['eval.x_img.indices'], 'eval.x_img.indices');
    tf.dispose([r.quantized, r.indices]);
  });

  it('lookup = indices_to_codes', async () => {
    const lfq = lucidrainsLfq();
    const ids = tensorOf(io['eval.x.indices']);
    const codes = lfq.lookup(ids);
    await expectAllClose(codes, io['eval.indices_to_codes'], tol, 'eval.indices_to_codes');
    tf.dispose([ids, codes]);
  });

  for (const input of ['x', 'x_soft']) {
    it(`train on input.${input}: quantized, indices and every loss`, async () => {
      const lfq = lucidrainsLfq();
      const r = lfq.quantize(tensorOf(io[`input.${input}`]), { training: true });
      await expectAllClose(r.quantized, io[`train.${input}.quantized`], tol, `train.${input}.quantized`);
      await expectExact(r.indices, io[`train.${input}.indices`], `train.${input}.indices`);
      await expectAllClose(r.losses.aux, io[`train.${input}.aux_loss`], tol, `train.${input}.aux_loss`);
      await expectAllClose(r.losses.perSampleEntropy, io[`train.${input}.per_sample_entropy`], tol, `train.${input}.per_sample_entropy`);
      await expectAllClose(r.losses.codebookEntropy, io[`train.${input}.batch_entropy`], tol, `train.${input}.batch_entropy`);
      await expectAllClose(r.losses.commitment, io[`train.${input}.commitment`], tol, `train.${input}.commitment`);
      tf.dispose([r.quantized, r.indices, ...Object.values(r.losses)]);
    });
  }

  it('train with the extra instance (commitment_loss_weight 0.25): aux and commitment', async () => {
    const lfq = lucidrainsLfq({ commitmentLossWeight: cfg.extra_instance.commitment_loss_weight });
    const r = lfq.quantize(tensorOf(io['input.x_soft']), { training: true });
    await expectAllClose(r.losses.aux, io['train_commit.x_soft.aux_loss'], tol, 'train_commit.x_soft.aux_loss');
    await expectAllClose(r.losses.commitment, io['train_commit.x_soft.commitment'], tol, 'train_commit.x_soft.commitment');
    tf.dispose([r.quantized, r.indices, ...Object.values(r.losses)]);
  });
});
