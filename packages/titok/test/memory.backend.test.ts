/**
 * Memory: public calls leave no tensor behind over many calls, and the peak memory of decode stays
 * bounded as the batch grows (the MaskGIT-VQGAN decoder, whose activations dominate, sees one image at a
 * time by default).
 */
import * as tf from '@tensorflow/tfjs-core';
import { goldenCase } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTiTok, loadTiTok, type TiTok } from '../src';
import { officialFiles } from './helpers';

describe(`memory (${process.env.VTOK_TEST_BACKEND ?? 'cpu'})`, () => {
  let model: TiTok;
  beforeAll(async () => {
    model = await loadTiTok(officialFiles(goldenCase('titok_tiny')));
  });
  afterAll(() => model?.dispose());

  // Every call runs the same code, so a leak shows in every round. WebGPU here is SwiftShader, a CPU
  // emulation at ~18 s per round on the shared CI machine: 10 rounds there, 100 on cpu and wasm.
  const rounds = process.env.VTOK_TEST_BACKEND === 'webgpu' ? 10 : 100;

  it('100 encode/decode calls (10 on SwiftShader WebGPU) leave tensor count and bytes unchanged', async () => {
    const size = model.config.imageSize;
    const images = tf.randomUniform([2, size, size, 3], 0, 1, 'float32', 11);
    // One warm-up round: backends may cache kernels or buffers on first use.
    tf.dispose([await model.decode(await model.encode(images))]);
    const before = tf.memory();
    for (let i = 0; i < rounds; i++) {
      const tokens = await model.encode(images);
      const out = await model.decode(tokens);
      tf.dispose([tokens, out]);
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    images.dispose();
    // WebGPU on SwiftShader (these CPU-only machines) runs each of the ~300 ops per round slowly.
  }, 30 * 60_000);

  it('decode peak memory grows far slower than the batch', async () => {
    const config = {
      model: {
        vq_model: {
          codebook_size: 64,
          token_size: 8,
          use_l2_norm: true,
          commitment_cost: 0.25,
          vit_enc_model_size: { width: 32, num_layers: 1, num_heads: 2 },
          vit_dec_model_size: { width: 32, num_layers: 1, num_heads: 2 },
          vit_enc_patch_size: 16,
          vit_dec_patch_size: 16,
          num_latent_tokens: 8,
          pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1, 2, 2], num_res_blocks: 1, z_channels: 16 },
          pixel_quantize: { num_embeddings: 1024, embedding_dim: 16 },
        },
      },
      dataset: { preprocessing: { crop_size: 64 } },
    };
    /** Bytes allocated above what was live before the call, at its highest point. */
    const transientPeak = async (m: TiTok, batch: number) => {
      const tokens = tf.randomUniform([batch, 8], 0, 64, 'int32', batch);
      const base = tf.memory().numBytes;
      const info = await tf.profile(async () => {
        const out = await m.decode(tokens);
        await out.data();
        out.dispose();
      });
      tokens.dispose();
      return info.peakBytes - base;
    };
    // maxPixelBatch 1, as the default is at 256² (at this 64² the default would be 16 images at a time).
    const bounded = createTiTok(config, { seed: 1, maxPixelBatch: 1 });
    const unbounded = createTiTok(config, { seed: 1, maxPixelBatch: 8 });
    const one = await transientPeak(bounded, 1);
    const eight = await transientPeak(bounded, 8);
    const eightAtOnce = await transientPeak(unbounded, 8);
    // The image outputs and ViT activations do grow with the batch; the decoder's do not.
    expect(eight / one, `peak ${eight} B at batch 8 vs ${one} B at batch 1`).toBeLessThan(2.5);
    // The control: the whole batch through the pixel decoder at once grows with the batch.
    expect(eightAtOnce / one, `peak ${eightAtOnce} B at batch 8 unchunked vs ${one} B`).toBeGreaterThan(5);
    bounded.dispose();
    unbounded.dispose();
  }, 10 * 60_000);
});
