/**
 * Parity with the official PyTorch code on the golden cases (@vtok/test-utils' golden/), on every backend. The
 * models are loaded the way a user loads a checkpoint: `loadTiTok` on the official Hugging Face layout
 * (config.json in the official format + model.safetensors), built from the fixture. Floats within the
 * golden tolerance |ours − ref| <= 1e-4 + 1e-4·|ref|; token ids exactly equal.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type GoldenTensor, channelsLast, expectAllClose, expectExact, expectOnlyResult, goldenCase, tensorOf } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMaskGitVqgan, loadTiTok, type TiTok } from '../src';
import { convSame } from '../src/conv';
import { officialFiles, tokensLast } from './helpers';

/** A golden NCHW tensor as an NHWC tf tensor. */
const nhwc = (raw: GoldenTensor): tf.Tensor => tensorOf(channelsLast(raw));

for (const name of ['titok_tiny', 'titok_nolegacy_tiny'] as const) {
  describe(`golden ${name} (${process.env.VTOK_TEST_BACKEND ?? 'cpu'})`, () => {
    const c = goldenCase(name);
    const cfg = c.config;
    let model: TiTok;
    let images: tf.Tensor;

    beforeAll(async () => {
      model = await loadTiTok(officialFiles(c));
      images = nhwc(c.io['input.image']);
    });
    afterAll(() => {
      model?.dispose();
      images?.dispose();
    });

    it('builds the sizes of the fixture config', () => {
      expect(model.config.encoder).toEqual({ width: cfg.vit_enc.width, numLayers: cfg.vit_enc.num_layers, numHeads: cfg.vit_enc.num_heads });
      expect(model.config.decoder).toEqual({ width: cfg.vit_dec.width, numLayers: cfg.vit_dec.num_layers, numHeads: cfg.vit_dec.num_heads });
      expect(model.tokens).toEqual({ vocabSize: cfg.codebook_size, shape: [cfg.num_latent_tokens] });
      expect(model.inputShape).toEqual([cfg.image_size, cfg.image_size, 3]);
      expect(model.config.isLegacy).toBe(cfg.is_legacy);
      const out = c.io['output.decoded'].shape;
      expect(model.outputShape).toEqual([out[2], out[3], 3]);
    });

    it('encoder latents before quantisation match enc.out', async () => {
      const latents = await expectOnlyResult(() => model.encodeLatents(images), 'encodeLatents');
      const expected = tokensLast(c.io['enc.out']);
      await expectAllClose(latents, expected, c.tolerance, 'enc.out');
      tf.dispose([latents, expected]);
    });

    it('token ids equal quant.tokens exactly', async () => {
      const tokens = await expectOnlyResult(() => model.encode(images), 'encode');
      expect(tokens.shape).toEqual([cfg.batch, cfg.num_latent_tokens]);
      await expectExact(tokens, c.io['quant.tokens'].data, 'quant.tokens');
      tokens.dispose();
    });

    it('looked-up codes match decode_tokens.z_quantized', async () => {
      const ids = tensorOf(c.io['decode_tokens.input']);
      const codes = await expectOnlyResult(() => model.lookup(ids), 'lookup');
      const expected = tokensLast(c.io['decode_tokens.z_quantized']);
      await expectAllClose(codes, expected, c.tolerance, 'decode_tokens.z_quantized');
      tf.dispose([ids, codes, expected]);
    });

    it('quantizer losses match quant.*_loss', async () => {
      const z = tokensLast(c.io['enc.out']);
      const { losses, quantized, indices } = model.quantizer!.quantize(z, { training: false });
      const values = Object.fromEntries(await Promise.all(Object.entries(losses).map(async ([k, v]) => [k, (await v.data())[0]] as const)));
      const commitment = c.io['quant.commitment_loss'].data[0];
      const codebook = c.io['quant.codebook_loss'].data[0];
      // Names as the quantizer reports them; the official dict calls them commitment_loss / codebook_loss.
      const find = (re: RegExp) => Object.entries(values).find(([k]) => re.test(k))?.[1];
      expect(find(/commit/i), JSON.stringify(values)).toBeCloseTo(commitment, 5);
      expect(find(/codebook/i), JSON.stringify(values)).toBeCloseTo(codebook, 5);
      tf.dispose([z, quantized, indices, ...Object.values(losses)]);
    });

    it('decode(tokens) matches decode_tokens.output (unclamped) and its clamp', async () => {
      const ids = tensorOf(c.io['decode_tokens.input']);
      const raw = await expectOnlyResult(() => model.decode(ids, { clamp: false }), 'decode');
      const expected = nhwc(c.io['decode_tokens.output']);
      await expectAllClose(raw, expected, c.tolerance, 'decode_tokens.output');
      const clamped = await model.decode(ids);
      const expectedClamped = tf.clipByValue(expected, 0, 1);
      await expectAllClose(clamped, expectedClamped, c.tolerance, 'clamp(decode_tokens.output)');
      tf.dispose([ids, raw, expected, clamped, expectedClamped]);
    });

    it('decodeLatents(dec.in) matches forward output.decoded', async () => {
      const zq = tokensLast(c.io['dec.in']);
      const out = await expectOnlyResult(() => model.decodeLatents(zq, { clamp: false }), 'decodeLatents');
      const expected = nhwc(c.io['output.decoded']);
      await expectAllClose(out, expected, c.tolerance, 'output.decoded');
      tf.dispose([zq, out, expected]);
    });

    if (cfg.is_legacy) {
      it('proxy-code logits and the soft VQGAN latent match dec.logits and pix.in', async () => {
        const zq = tokensLast(c.io['dec.in']);
        const logits = await expectOnlyResult(() => model.decodeLogits(zq), 'decodeLogits');
        const expected = nhwc(c.io['dec.logits']);
        await expectAllClose(logits, expected, c.tolerance, 'dec.logits');
        const soft = model.pixelCodebook!.softLookup(logits);
        const pixIn = nhwc(c.io['pix.in']);
        await expectAllClose(soft, pixIn, c.tolerance, 'pix.in');
        tf.dispose([zq, logits, expected, soft, pixIn]);
      });
    } else {
      it('the pixel head before its 3×3 conv matches dec.ffn', async () => {
        const zq = tokensLast(c.io['dec.in']);
        const decoder = model.decoder;
        // Run the decoder with conv_out skipped: the head's pixel-shuffled output.
        const convOut = decoder.convOut!;
        const identity = Object.create(convOut, { forward: { value: (t: tf.Tensor) => tf.clone(t) } });
        (decoder as unknown as { convOut: unknown }).convOut = identity;
        try {
          const ffn = decoder.forward(zq);
          const expected = nhwc(c.io['dec.ffn']);
          await expectAllClose(ffn, expected, c.tolerance, 'dec.ffn');
          tf.dispose([ffn, expected]);
        } finally {
          (decoder as unknown as { convOut: unknown }).convOut = convOut;
          zq.dispose();
        }
      });
    }
  });
}

describe(`golden vqgan_decoder_tiny (${process.env.VTOK_TEST_BACKEND ?? 'cpu'})`, () => {
  const c = goldenCase('vqgan_decoder_tiny');
  const d = c.config.decoder;
  const config = { hiddenChannels: d.hidden_channels, channelMult: d.channel_mult, numResBlocks: d.num_res_blocks, zChannels: d.z_channels, numEmbeddings: c.config.num_embeddings, resolution: d.resolution };

  it('decodes codes to output.image (clamped) and dec.in to dec.out (unclamped)', async () => {
    const model = await loadMaskGitVqgan(c.weightsBytes, { config, parts: ['decoder'] });
    const codes = tensorOf(c.io['input.codes']);
    const image = await expectOnlyResult(() => model.decode(codes), 'decode');
    const expected = nhwc(c.io['output.image']);
    await expectAllClose(image, expected, c.tolerance, 'output.image');
    const z = nhwc(c.io['dec.in']);
    const raw = await model.decodeLatents(z, { clamp: false });
    const expectedRaw = nhwc(c.io['dec.out']);
    await expectAllClose(raw, expectedRaw, c.tolerance, 'dec.out');
    tf.dispose([codes, image, expected, z, raw, expectedRaw]);
    model.dispose();
  });

  it('every decoder stage matches (conv_in, mid, up blocks with the nin_shortcut quirk, norm_out)', async () => {
    const model = await loadMaskGitVqgan(c.weightsBytes, { config, parts: ['decoder'] });
    const dec = model.decoder!;
    const z = nhwc(c.io['dec.in']);
    const check = async (t: tf.Tensor, name: string) => {
      const ref = nhwc(c.io[name]);
      await expectAllClose(t, ref, c.tolerance, name);
      ref.dispose();
    };
    let x = convSame(dec.convIn, z);
    await check(x, 'dec.conv_in');
    for (let i = 0; i < dec.mid.length; i++) {
      const y = dec.mid.at(i).forward(x);
      x.dispose();
      x = y;
      await check(x, `dec.mid${i}`);
    }
    for (let i = dec.up.length - 1; i >= 0; i--) {
      const level = dec.up.at(i);
      for (let j = 0; j < level.block.length; j++) {
        const y = level.block.at(j).forward(x);
        x.dispose();
        x = y;
        if (c.io[`dec.up${i}.block${j}`]) await check(x, `dec.up${i}.block${j}`);
      }
      if (level.upsampleConv) {
        const y = tf.tidy(() => convSame(level.upsampleConv!, tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * x.shape[1]!, 2 * x.shape[2]!])));
        x.dispose();
        x = y;
      }
      await check(x, `dec.up${i}`);
    }
    const normed = dec.normOut.forward(x);
    await check(normed, 'dec.norm_out');
    tf.dispose([z, x, normed]);
    model.dispose();
  });
});
