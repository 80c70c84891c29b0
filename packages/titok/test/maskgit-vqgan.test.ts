/**
 * The MaskGIT-VQGAN as a 2D VQ tokenizer on a tiny config: official state-dict names, encode/decode,
 * forward = encode + decode up to the straight-through rounding, gradients, save/load, and TiTok's
 * stage-2 initialisation from it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SeededRandom, ShapeError, StateDictError } from '@vtok/core';
import { disposeAll, expectAllClose, expectError, expectExact, expectGradientsReach, expectNoLeak, expectOnlyResult } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createMaskGitVqgan, createTiTok, loadMaskGitVqgan, type MaskGitVqganConfig, saveMaskGitVqgan, titokStage2 } from '../src';
import { tinyOfficialConfig } from './helpers';

// 16² images → a 4×4 grid (3 levels, 2 average pools), 16 codes of 8 channels.
const config: MaskGitVqganConfig = { hiddenChannels: 32, channelMult: [1, 1, 2], numResBlocks: 1, zChannels: 8, numEmbeddings: 16, resolution: 16 };
const vqgan = createMaskGitVqgan(config, { seed: 1, maxBatch: 2 });
afterAll(() => vqgan.dispose());
const images = (seed: number, batch = 2) => new SeededRandom(seed).uniform([batch, 16, 16, 3], 0, 1);

describe('MaskGitVqgan', () => {
  it('has the official state-dict names (encoder.*, decoder.*, quantize.embedding.weight)', () => {
    const keys = Object.keys(vqgan.stateDict());
    const block = (p: string, shortcut = false) => [
      `${p}.norm1.weight`, `${p}.norm1.bias`, `${p}.conv1.weight`, `${p}.norm2.weight`, `${p}.norm2.bias`, `${p}.conv2.weight`, ...(shortcut ? [`${p}.nin_shortcut.weight`] : []),
    ];
    // in ≠ out (32 → 64 in the encoder's last level, 64 → 32 in the decoder's level 1): the nin_shortcut.
    const encoder = [
      'encoder.conv_in.weight',
      ...block('encoder.down.0.block.0'),
      ...block('encoder.down.1.block.0'),
      ...block('encoder.down.2.block.0', true),
      ...block('encoder.mid.0'),
      'encoder.norm_out.weight', 'encoder.norm_out.bias', 'encoder.conv_out.weight', 'encoder.conv_out.bias',
    ];
    const decoder = [
      'decoder.conv_in.weight', 'decoder.conv_in.bias',
      ...block('decoder.mid.0'),
      ...block('decoder.up.0.block.0'),
      ...block('decoder.up.1.block.0', true), 'decoder.up.1.upsample_conv.weight', 'decoder.up.1.upsample_conv.bias',
      ...block('decoder.up.2.block.0'), 'decoder.up.2.upsample_conv.weight', 'decoder.up.2.upsample_conv.bias',
      'decoder.norm_out.weight', 'decoder.norm_out.bias', 'decoder.conv_out.weight', 'decoder.conv_out.bias',
    ];
    expect(keys.sort()).toEqual([...encoder, ...decoder, 'quantize.embedding.weight'].sort());
    expect(vqgan.stateDict()['encoder.conv_out.weight'].shape).toEqual([1, 1, 64, 8]);
    expect(vqgan.tokens).toEqual({ vocabSize: 16, shape: [16] });
    expect(vqgan.inputShape).toEqual([16, 16, 3]);
  });

  it('encode → int32 [B, 16] ids in range; decode → [B, 16, 16, 3] in [0, 1], also from [B, 4, 4]; no leaks', async () => {
    const x = images(2);
    const tokens = await expectOnlyResult(() => vqgan.encode(x), 'encode');
    expect(tokens.dtype).toBe('int32');
    expect(tokens.shape).toEqual([2, 16]);
    const ids = await tokens.data();
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ids)).toBeLessThan(16);
    const out = await expectOnlyResult(() => vqgan.decode(tokens), 'decode');
    expect(out.shape).toEqual([2, 16, 16, 3]);
    const px = await out.data();
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    const grid = tf.reshape(tokens, [2, 4, 4]);
    const fromGrid = await vqgan.decode(grid);
    await expectExact(fromGrid, out, 'decode of the [B, 4, 4] layout');
    const wrong = tf.zeros([1, 15], 'int32');
    await expectError(() => vqgan.decode(wrong), ShapeError, /\[B, 16\] or \[B, 4, 4\], got \[1, 15\]/);
    disposeAll([x, tokens, out, grid, fromGrid, wrong]);
  });

  it('forward: indices = encode tokens, reconstruction = decode(tokens) before its clamp, VQ losses; no leaks', async () => {
    const x = images(3);
    const out = vqgan.forward(x, { training: true });
    const tokens = await vqgan.encode(x);
    await expectExact(out.indices, tokens, 'indices');
    expect(out.reconstruction!.shape).toEqual([2, 16, 16, 3]);
    const decoded = await vqgan.decode(tokens);
    const clamped = tf.clipByValue(out.reconstruction!, 0, 1);
    await expectAllClose(clamped, decoded, { atol: 1e-5, rtol: 1e-5 }, 'reconstruction');
    expect(Object.keys(out.losses).sort()).toEqual(['codebook', 'commitment', 'total']);
    disposeAll([out, tokens, decoded, clamped]);
    await expectNoLeak(() => vqgan.forward(x, { training: true }), 'forward');
    const small = tf.zeros([1, 8, 8, 3]);
    await expectError(() => vqgan.forward(small), ShapeError, /MaskGitVqgan\.forward: expected images \[B, 16, 16, 3\]/);
    tf.dispose([x, small]);
  });

  it('L2 + VQ loss: finite gradients reaching encoder, codebook and decoder', async () => {
    const x = images(4);
    const loss = () => {
      const { reconstruction, losses } = vqgan.forward(x, { training: true });
      return tf.add(tf.mean(tf.squaredDifference(reconstruction!, x)), losses.total) as tf.Scalar;
    };
    const before = tf.memory().numTensors;
    await expectGradientsReach(vqgan, loss, ['encoder.', 'quantize.', 'decoder.']);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('saveMaskGitVqgan → loadMaskGitVqgan gives identical tokens and images; a half is refused where it is needed', async () => {
    const files = await saveMaskGitVqgan(vqgan);
    const back = await loadMaskGitVqgan(files, { maxBatch: 2 });
    expect(back.config).toEqual(config);
    const x = images(5);
    const [a, b] = [await vqgan.encode(x), await back.encode(x)];
    await expectExact(b, a, 'tokens after the round trip');
    const [ia, ib] = [await vqgan.decode(a), await back.decode(a)];
    await expectExact(ib, ia, 'images after the round trip');
    const decoderOnly = await loadMaskGitVqgan(files, { parts: ['decoder'] });
    await expectError(() => decoderOnly.encode(x), ConfigError, /without its encoder/);
    expect(() => decoderOnly.forward(x)).toThrow(/without its encoder/);
    disposeAll([x, a, b, ia, ib]);
    back.dispose();
    decoderOnly.dispose();
  });

  it('TiTok.setPixelDecoderFrom copies the decoder and codebook into pixel_decoder / pixel_quantize (stage-2 init)', async () => {
    const pixel = { pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1, 2], num_res_blocks: 1, z_channels: 8 }, pixel_quantize: { num_embeddings: 16, embedding_dim: 8 } };
    const titok = createTiTok(
      tinyOfficialConfig({ codebook_size: 32, token_size: 8, use_l2_norm: true, commitment_cost: 0.25, ...pixel, is_legacy: true, finetune_decoder: true, vit_dec_patch_size: 4 }),
      { seed: 6 },
    );
    titok.setPixelDecoderFrom(vqgan);
    const own = titok.stateDict();
    for (const [k, v] of Object.entries(vqgan.decoder!.stateDict())) await expectExact(own[`pixel_decoder.${k}`], v, k);
    await expectExact(own['pixel_quantize.embedding.weight'], vqgan.quantize.stateDict()['embedding.weight'], 'codebook');
    const other = createMaskGitVqgan({ ...config, zChannels: 16 }, { seed: 7, parts: ['decoder'] });
    const before = await own['pixel_decoder.conv_in.weight'].data();
    await expectError(() => titok.setPixelDecoderFrom(other), StateDictError, /pixel_quantize\.embedding\.weight/);
    expect(Array.from(await titok.stateDict()['pixel_decoder.conv_in.weight'].data())).toEqual(Array.from(before));
    other.dispose();
    titok.dispose();
  });

  it('titokStage2 turns a stage-1 TiTok and its teacher into the stage-2 model: stage-1 weights, the teacher\'s pixel path, encoder side frozen', async () => {
    const stage1 = createTiTok(tinyOfficialConfig({ codebook_size: 32, token_size: 8, use_l2_norm: true, commitment_cost: 0.25, is_legacy: true, finetune_decoder: false, vit_dec_patch_size: 4, pixel_quantize: { num_embeddings: 16 } }), { seed: 8 });
    const stage2 = titokStage2(stage1, vqgan);
    const own = stage2.stateDict();
    for (const [k, v] of Object.entries(stage1.stateDict())) await expectExact(own[k], v, k);
    for (const [k, v] of Object.entries(vqgan.decoder!.stateDict())) await expectExact(own[`pixel_decoder.${k}`], v, k);
    const frozen = [...stage2.namedParameters()].filter(([n]) => n === 'latent_tokens' || n.startsWith('encoder.') || n.startsWith('quantize.'));
    expect(frozen.length).toBeGreaterThan(0);
    expect(frozen.every(([, v]) => !v.trainable)).toBe(true);
    expect([...stage2.namedParameters()].filter(([n]) => n.startsWith('decoder.')).every(([, v]) => v.trainable)).toBe(true);
    const x = tf.randomUniform([1, stage2.inputShape[0], stage2.inputShape[1], 3]);
    const out = stage2.forward(x);
    expect(out.reconstruction?.shape).toEqual([1, ...stage2.outputShape]);
    tf.dispose([x, out.reconstruction!, out.indices, ...Object.values(out.losses)]);
    await expectError(() => titokStage2(stage2, vqgan), ConfigError, /expected a stage-1 model/);
    stage2.dispose();
    stage1.dispose();
  });
});
