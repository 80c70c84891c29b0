import { ConfigError, resolveReference, UnknownPluginError } from '@vtok/core';
import { TITOK_L32_HUB_CONFIG } from '@vtok/test-utils';
import { tinyOfficialConfig } from './helpers';
import { describe, expect, it } from 'vitest';
import {
  MASKGIT_VQGAN_DECODER,
  TITOK_PRESETS,
  createTiTok,
  officialConfigFor,
  parseOfficialConfig,
  titokParameterCount,
  titokPreset,
  type TiTokPresetName,
} from '../src';

/** The hub config.json of yucornetto/tokenizer_titok_l32_imagenet as the reference (§4.2) describes it. */
const HUB_L32 = TITOK_L32_HUB_CONFIG;

describe('official config parsing', () => {
  it('reads the hub L-32 config: presets by name, defaults for the keys it leaves out', () => {
    const c = parseOfficialConfig(HUB_L32);
    expect(c).toEqual({
      imageSize: 256,
      encoder: { width: 1024, numLayers: 24, numHeads: 16 },
      decoder: { width: 1024, numLayers: 24, numHeads: 16 },
      encoderPatchSize: 16,
      decoderPatchSize: 16,
      numLatentTokens: 32,
      tokenSize: 12,
      quantizeMode: 'vq',
      codebookSize: 4096,
      useL2Norm: true,
      commitmentCost: 0.25,
      isLegacy: true,
      finetuneDecoder: true,
      pixelDecoder: { ...MASKGIT_VQGAN_DECODER, channelMult: [1, 1, 2, 2, 4] },
      pixelCodebookSize: 1024,
    });
  });

  it('reads image_seq_len through its ${...} reference (core resolves it)', () => {
    expect(resolveReference(HUB_L32, 'model.generator.image_seq_len')).toBe(32);
  });

  it('takes the VQ and ViT sizes through references', () => {
    const tree = structuredClone(HUB_L32) as any;
    tree.sizes = { enc: 'base', tokens: 64 };
    tree.model.vq_model.vit_enc_model_size = '${sizes.enc}';
    tree.model.vq_model.num_latent_tokens = '${sizes.tokens}';
    const c = parseOfficialConfig(tree);
    expect(c.encoder).toEqual({ width: 768, numLayers: 12, numHeads: 12 });
    expect(c.numLatentTokens).toBe(64);
  });

  it('accepts explicit ViT sizes, pixel decoder and pixel codebook sizes', () => {
    const tree = structuredClone(HUB_L32) as any;
    tree.model.vq_model.vit_enc_model_size = { width: 64, num_layers: 2, num_heads: 4 };
    tree.model.vq_model.pixel_decoder = { hidden_channels: 32, channel_mult: [1, 2], num_res_blocks: 1, z_channels: 16 };
    tree.model.vq_model.pixel_quantize = { num_embeddings: 512, embedding_dim: 16 };
    const c = parseOfficialConfig(tree);
    expect(c.encoder).toEqual({ width: 64, numLayers: 2, numHeads: 4 });
    expect(c.pixelDecoder).toEqual({ hiddenChannels: 32, channelMult: [1, 2], numResBlocks: 1, zChannels: 16 });
    expect(c.pixelCodebookSize).toBe(512);
  });

  it('reports every problem of a config in one ConfigError', () => {
    const tree = structuredClone(HUB_L32) as any;
    delete tree.model.vq_model.token_size;
    delete tree.dataset;
    tree.model.vq_model.vit_dec_model_size = 'huge';
    tree.model.vq_model.vit_enc_model_size = { width: 100, num_layers: 2, num_heads: 3 };
    tree.model.vq_model.use_l2_norm = 'yes';
    let error: unknown;
    try {
      parseOfficialConfig(tree);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const part of ['token_size is missing', 'crop_size is missing', '"huge"', 'multiple of num_heads 3', 'use_l2_norm must be true or false']) {
      expect(message).toContain(part);
    }
  });

  it('refuses what the official code refuses or cannot run', () => {
    const vae = structuredClone(TITOK_PRESETS['titok-ll-32-vae'].config) as any;
    vae.model.vq_model.finetune_decoder = true;
    expect(() => parseOfficialConfig(vae)).toThrow(/finetune_decoder is true with quantize_mode "vae"/);
    const tree = structuredClone(HUB_L32) as any;
    tree.model.vq_model.is_legacy = false;
    expect(() => parseOfficialConfig(tree)).toThrow(/is_legacy false/);
    tree.model.vq_model.is_legacy = true;
    tree.model.vq_model.quantize_mode = 'fsq';
    expect(() => parseOfficialConfig(tree)).toThrow(/quantize_mode must be "vq" or "vae"/);
    tree.model.vq_model.quantize_mode = 'vq';
    tree.model.vq_model.pixel_quantize = { num_embeddings: 1024, embedding_dim: 128 };
    expect(() => parseOfficialConfig(tree)).toThrow(/embedding_dim \(128\) must equal pixel_decoder.z_channels \(256\)/);
    expect(() => parseOfficialConfig([] as any)).toThrow(ConfigError);
  });

  it('officialConfigFor writes a tree that parses back to the same config', () => {
    for (const name of Object.keys(TITOK_PRESETS) as TiTokPresetName[]) {
      const c = parseOfficialConfig(titokPreset(name).config);
      expect(parseOfficialConfig(officialConfigFor(c)), name).toEqual(c);
    }
    const tiny = parseOfficialConfig({
      model: {
        vq_model: {
          codebook_size: 64,
          token_size: 12,
          use_l2_norm: true,
          commitment_cost: 0.25,
          vit_enc_model_size: { width: 64, num_layers: 2, num_heads: 4 },
          vit_dec_model_size: { width: 48, num_layers: 2, num_heads: 4 },
          vit_enc_patch_size: 8,
          vit_dec_patch_size: 8,
          num_latent_tokens: 8,
          pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1], num_res_blocks: 1, z_channels: 16 },
          pixel_quantize: { num_embeddings: 1024, embedding_dim: 16 },
        },
      },
      dataset: { preprocessing: { crop_size: 32 } },
    });
    expect(parseOfficialConfig(officialConfigFor(tiny))).toEqual(tiny);
    // An official-sized model gets an official-looking config: preset names, no extension keys.
    const l32 = officialConfigFor(parseOfficialConfig(HUB_L32)) as any;
    expect(l32.model.vq_model.vit_enc_model_size).toBe('large');
    expect(l32.model.vq_model.pixel_decoder).toBeUndefined();
    expect(l32.model.vq_model.pixel_quantize).toBeUndefined();
    expect(l32.model.vq_model.quantizer).toBeUndefined();
  });

  it('reads a quantizer plugin (model.vq_model.quantizer) as it is; the built-in VQ keys become optional', () => {
    const tree = structuredClone(HUB_L32) as any;
    const vq = tree.model.vq_model;
    delete vq.codebook_size;
    delete vq.use_l2_norm;
    delete vq.commitment_cost;
    vq.quantizer = { type: 'fsq', levels: [8, 8, 8, 5, 5, 5, 3, 3, 3, 3, 3, 3] };
    const c = parseOfficialConfig(tree);
    expect(c.quantizer).toEqual({ type: 'fsq', levels: [8, 8, 8, 5, 5, 5, 3, 3, 3, 3, 3, 3] });
    expect([c.codebookSize, c.useL2Norm]).toEqual([0, false]);
    // Written back with the plugin and without VQ keys it never had; parses to the same config.
    const written = officialConfigFor(c) as any;
    expect(written.model.vq_model.quantizer).toEqual(vq.quantizer);
    expect(written.model.vq_model.codebook_size).toBeUndefined();
    expect(parseOfficialConfig(written)).toEqual(c);
    // With the VQ keys kept, they round-trip too.
    const withKeys = parseOfficialConfig({ ...HUB_L32, model: { ...(HUB_L32 as any).model, vq_model: { ...(HUB_L32 as any).model.vq_model, quantizer: { type: 'vq', codebookSize: 16, ema: true } } } });
    expect(withKeys.codebookSize).toBe(4096);
    expect(parseOfficialConfig(officialConfigFor(withKeys))).toEqual(withKeys);
  });

  it('refuses a quantizer that is not a registry config, has another dim, or sits in a VAE', () => {
    const tree = (quantizer: unknown, extra: Record<string, unknown> = {}) =>
      ({ ...HUB_L32, model: { ...(HUB_L32 as any).model, vq_model: { ...(HUB_L32 as any).model.vq_model, quantizer, ...extra } } }) as any;
    expect(() => parseOfficialConfig(tree('vq'))).toThrow(/quantizer must be a registered quantizer's config \{ type/);
    expect(() => parseOfficialConfig(tree({ levels: [3] }))).toThrow(/quantizer must be a registered quantizer's config/);
    expect(() => parseOfficialConfig(tree({ type: 'fsq', levels: [3], dim: 5 }))).toThrow(/quantizer\.dim \(5\) must equal token_size \(12\)/);
    expect(() => parseOfficialConfig(tree({ type: 'fsq', levels: [3] }, { quantize_mode: 'vae' }))).toThrow(/quantizer is set with quantize_mode "vae"/);
  });

  it("builds the plugin through the registry: FSQ in place of the VQ, vocabulary from the quantizer", () => {
    const tiny = parseOfficialConfig(tinyOfficialConfig({ token_size: 4, quantizer: { type: 'fsq', levels: [5, 5, 4, 3] } }));
    const model = createTiTok(tiny, { seed: 0 });
    try {
      expect(model.quantizer?.type).toBe('fsq');
      expect(model.tokens.vocabSize).toBe(300);
      // FSQ has no parameters: nothing under quantize.*.
      expect(Object.keys(model.stateDict()).some((k) => k.startsWith('quantize.'))).toBe(false);
    } finally {
      model.dispose();
    }
    expect(() => createTiTok({ ...tiny, quantizer: { type: 'fsq', levels: [5, 5] } })).toThrow(/levels\.length|dim/);
    expect(() => createTiTok({ ...tiny, quantizer: { type: 'nope' } as any })).toThrow(/unknown quantizer "nope"; registered quantizers: .*"fsq".*"lfq".*"vq"/);
  });
});

describe('presets', () => {
  // Totals from instantiating the official classes (reference §1.2).
  const official: Partial<Record<TiTokPresetName, number>> = {
    'titok-s-128': 83_674_639,
    'titok-b-64': 204_814_095,
    'titok-l-32': 641_054_735,
    'titok-bl-64-vq': 390_016_148,
    'titok-bl-64-vae': 389_418_100,
  };

  it('have the official parameter totals', () => {
    for (const [name, count] of Object.entries(official)) {
      expect(titokParameterCount(parseOfficialConfig(titokPreset(name).config)), name).toBe(count);
    }
  });

  it('list the official Hugging Face repos and sizes', () => {
    expect(titokPreset('titok-l-32').hub).toBe('hf:yucornetto/tokenizer_titok_l32_imagenet');
    expect(titokPreset('TiTok-L-32').name).toBe('titok-l-32');
    const bl = parseOfficialConfig(titokPreset('titok-bl-64-vq').config);
    expect([bl.encoder.width, bl.decoder.width, bl.codebookSize, bl.tokenSize, bl.useL2Norm, bl.isLegacy, bl.finetuneDecoder]).toEqual([768, 1024, 8192, 64, false, false, false]);
    const vae = parseOfficialConfig(titokPreset('titok-ll-32-vae').config);
    expect([vae.quantizeMode, vae.tokenSize, vae.numLatentTokens, vae.pixelDecoder]).toEqual(['vae', 16, 32, undefined]);
    expect(() => titokPreset('titok-xl-16')).toThrow(UnknownPluginError);
  });

  it('TiTok-S-128 builds at its real size with the official keys and count', () => {
    const model = createTiTok('titok-s-128', { seed: 0, init: 'none' });
    try {
      expect(model.parameterCount()).toBe(83_674_639);
      const keys = Object.keys(model.stateDict());
      expect(keys.length).toBe(308);
      for (const key of [
        'latent_tokens',
        'encoder.patch_embed.weight',
        'encoder.transformer.7.attn.in_proj_weight',
        'encoder.transformer.7.mlp.c_proj.bias',
        'encoder.conv_out.weight',
        'decoder.mask_token',
        'decoder.ffn.0.weight',
        'decoder.ffn.2.bias',
        'quantize.embedding.weight',
        'pixel_quantize.embedding.weight',
        'pixel_decoder.up.1.block.0.nin_shortcut.weight',
        'pixel_decoder.up.3.block.0.nin_shortcut.weight',
        'pixel_decoder.up.4.upsample_conv.bias',
        'pixel_decoder.conv_out.bias',
      ]) {
        expect(keys, key).toContain(key);
      }
      expect(keys).not.toContain('pixel_decoder.up.0.upsample_conv.weight');
      expect(model.tokens).toEqual({ vocabSize: 4096, shape: [128] });
      expect(model.outputShape).toEqual([256, 256, 3]);
    } finally {
      model.dispose();
    }
  });
});
