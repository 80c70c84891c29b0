/**
 * TiTok as a TrainableTokenizer: forward = decode(encode(x)) in one synchronous pass, with the tokens
 * encode gives, the images decode gives (up to the straight-through rounding), gradients that reach
 * every trained part, and no tensors left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, ShapeError } from '@vtok/core';
import { disposeAll, expectAllClose, expectError, expectExact, expectGradientsReach, expectNoLeak } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createTiTok, type TiTok } from '../src';
import { tinyOfficialConfig } from './helpers';

const vq = { codebook_size: 32, token_size: 8, use_l2_norm: true, commitment_cost: 0.25 };
// Decoder grid 4 (patch 4 of 16²); the pixel decoder up-samples it ×4 back to 16².
const pixel = { pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1, 2], num_res_blocks: 1, z_channels: 8 }, pixel_quantize: { num_embeddings: 16, embedding_dim: 8 } };
const models: Record<'single' | 'legacy' | 'stage1', TiTok> = {
  single: createTiTok(tinyOfficialConfig(vq), { seed: 1 }),
  legacy: createTiTok(tinyOfficialConfig({ ...vq, ...pixel, is_legacy: true, finetune_decoder: true, vit_dec_patch_size: 4 }), { seed: 2 }),
  stage1: createTiTok(tinyOfficialConfig({ ...vq, is_legacy: true, vit_dec_patch_size: 4, pixel_quantize: { num_embeddings: 16, embedding_dim: 8 } }), { seed: 3 }),
};
afterAll(() => Object.values(models).forEach((m) => m.dispose()));

const images = (seed: number) => new SeededRandom(seed).uniform([2, 16, 16, 3], 0, 1);

describe('TiTok.forward', () => {
  for (const kind of ['single', 'legacy'] as const) {
    it(`${kind}: indices = encode's tokens, reconstruction = decode(tokens) unclamped`, async () => {
      const model = models[kind];
      const x = images(5);
      const out = model.forward(x, { training: true });
      expect(out.logits).toBeUndefined();
      expect(out.reconstruction!.shape).toEqual([2, 16, 16, 3]);
      const tokens = await model.encode(x);
      await expectExact(out.indices, tokens, 'indices');
      const decoded = await model.decode(tokens, { clamp: false });
      // The straight-through output z + sg(z_q − z) is z_q up to float rounding (spec §1.7).
      await expectAllClose(out.reconstruction!, decoded, { atol: 1e-4, rtol: 1e-4 }, 'reconstruction');
      expect(Object.keys(out.losses).sort()).toEqual(['codebook', 'commitment', 'total']);
      disposeAll([out, tokens, decoded, x]);
    });
  }

  it('stage 1 (legacy, no pixel decoder): proxy-code logits [B, g, g, codes], no reconstruction', async () => {
    const x = images(6);
    const out = models.stage1.forward(x);
    expect(out.reconstruction).toBeUndefined();
    expect(out.logits!.shape).toEqual([2, 4, 4, 16]);
    expect(out.indices.shape).toEqual([2, 4]);
    expect(out.indices.dtype).toBe('int32');
    disposeAll([out, x]);
  });

  for (const kind of ['single', 'legacy', 'stage1'] as const) {
    it(`${kind}: leaves only its result behind, in training and not`, async () => {
      const x = images(7);
      await expectNoLeak(() => models[kind].forward(x, { training: true }), `${kind} forward (training)`);
      await expectNoLeak(() => models[kind].forward(x), `${kind} forward`);
      x.dispose();
    });
  }

  it('L2 + quantizer loss: finite gradients that reach encoder, latent tokens, codebook and decoder (and the pixel decoder)', async () => {
    const x = images(8);
    for (const kind of ['single', 'legacy'] as const) {
      const model = models[kind];
      const loss = () => {
        const { reconstruction, losses } = model.forward(x, { training: true });
        return tf.add(tf.mean(tf.squaredDifference(reconstruction!, x)), losses.total) as tf.Scalar;
      };
      const parts = ['encoder.', 'latent_tokens', 'quantize.', 'decoder.', ...(kind === 'legacy' ? ['pixel_decoder.', 'pixel_quantize.'] : [])];
      const before = tf.memory().numTensors;
      await expectGradientsReach(model, loss, parts);
      expect(tf.memory().numTensors, `${kind}: live tensors after the gradients`).toBe(before);
    }
    // Stage 1: cross-entropy of the logits against a teacher's codes.
    const teacher = tf.tensor2d(Array.from({ length: 2 * 16 }, (_, i) => i % 16), [2, 16], 'int32');
    const ce = () => {
      const { logits, losses } = models.stage1.forward(x, { training: true });
      const flat = tf.reshape(logits!, [-1, 16]);
      return tf.add(tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(teacher, [-1]), 16), flat), losses.total) as tf.Scalar;
    };
    await expectGradientsReach(models.stage1, ce, ['encoder.', 'quantize.', 'decoder.ffn.']);
    tf.dispose([x, teacher]);
  });

  it('setEncoderTrainable(false) freezes latent tokens, encoder and quantizer only (stage 2)', async () => {
    const model = models.legacy;
    model.setEncoderTrainable(false);
    try {
      const trainable = [...model.namedParameters()].filter(([, v]) => v.trainable).map(([n]) => n);
      expect(trainable.some((n) => n.startsWith('encoder.') || n.startsWith('quantize.') || n === 'latent_tokens')).toBe(false);
      expect(trainable.some((n) => n.startsWith('decoder.'))).toBe(true);
      expect(trainable.some((n) => n.startsWith('pixel_decoder.'))).toBe(true);
      expect(trainable.some((n) => n.startsWith('pixel_quantize.'))).toBe(true);
    } finally {
      model.setEncoderTrainable(true);
    }
    expect(model.latentTokens.trainable).toBe(true);
  });

  it('a frozen quantizer keeps its codebook in training passes: no dead-code restart (stage 2)', async () => {
    // A VQ that restarts every code idle for one call: in training, most of its 32 codes move on the first pass.
    const restarting = createTiTok({ ...models.single.config, quantizer: { type: 'vq', codebookSize: 32, useL2Norm: true, commitmentCost: 0.25, deadCodeRestart: { afterCalls: 1 }, seed: 4 } }, { seed: 5 });
    const codebook = async () => Array.from(await restarting.stateDict()['quantize.embedding.weight']!.data());
    const x = images(9);
    try {
      const before = await codebook();
      restarting.setEncoderTrainable(false);
      for (let i = 0; i < 2; i++) disposeAll([restarting.forward(x, { training: true })]);
      expect(await codebook(), 'frozen: the codebook stays').toEqual(before);
      restarting.setEncoderTrainable(true);
      for (let i = 0; i < 2; i++) disposeAll([restarting.forward(x, { training: true })]);
      expect(await codebook(), 'trainable: the restarts move codes').not.toEqual(before);
    } finally {
      x.dispose();
      restarting.dispose();
    }
  });

  it('checks shapes only: a wrong size is a ShapeError naming what was expected', async () => {
    const x = tf.zeros([1, 8, 8, 3]);
    await expectError(() => models.single.forward(x), ShapeError, /TiTok\.forward.*\[B, 16, 16, 3\].*\[1, 8, 8, 3\]/);
    x.dispose();
  });
});
