import { ConfigError } from '@vtok/core';
import { TITOK_L32_HUB_CONFIG } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import {
  ImageBert,
  UViTBert,
  createMaskGIT,
  fromOfficialConfig,
  maskgitParameterCount,
  MASKGIT_PRESETS,
  maskgitVocabulary,
  resolveMaskGITConfig,
  toOfficialConfig,
} from '../src';

/** The config.json of yucornetto/generator_titok_l32_imagenet (reference §4.2), references unresolved as shipped. */
const officialL32 = TITOK_L32_HUB_CONFIG;

describe('official config', () => {
  it('reads the released L-32 generator config as the preset', () => {
    const c = fromOfficialConfig(officialL32);
    expect(c).toEqual(resolveMaskGITConfig(MASKGIT_PRESETS['titok-l-32'].config));
    expect(c.tokenShape).toEqual([32]);
  });

  it('applies the official defaults for absent fields and the old boolean guidance_decay', () => {
    const c = fromOfficialConfig({ model: { vq_model: { codebook_size: 1024, num_latent_tokens: 64 }, generator: { guidance_decay: true } } });
    expect(c).toMatchObject({ modelType: 'ViT', codebookSize: 1024, numClasses: 1000, tokenShape: [64], hiddenSize: 768, numLayers: 24 });
    expect(c.sampling).toMatchObject({ guidanceDecay: 'linear', steps: 8, guidanceScale: 3, randomizeTemperature: 4.5, guidanceScalePow: 3, schedule: 'arccos' });
  });

  it('round-trips through toOfficialConfig, keeping fields vtok does not use', () => {
    const c = fromOfficialConfig(officialL32);
    const back = toOfficialConfig(c, officialL32);
    expect(fromOfficialConfig(back)).toEqual(c);
    expect((back.model as any).vq_model.token_size).toBe(12);
    expect((back.model as any).generator.image_seq_len).toBe(32);
    expect((back.experiment as any).output_dir).toBe('titok_l_32');
    const grid = resolveMaskGITConfig({ codebookSize: 262144, tokenShape: [16, 16], hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128 });
    const official = toOfficialConfig(grid);
    expect((official.model as any).generator).toMatchObject({ image_seq_len: 256, token_shape: [16, 16] });
    expect(fromOfficialConfig(official)).toEqual(grid);
  });

  it('rejects bad configs with the field named', () => {
    const base = { codebookSize: 16, tokenShape: [4] };
    expect(() => resolveMaskGITConfig({ ...base, hiddenSize: 30, numHeads: 4 })).toThrow(/hiddenSize \(30\) must be a multiple of numHeads \(4\)/);
    expect(() => resolveMaskGITConfig({ ...base, modelType: 'UViT', numLayers: 3 })).toThrow(/must be even; got 3/);
    expect(() => resolveMaskGITConfig({ ...base, tokenShape: [] })).toThrow(ConfigError);
    expect(() => resolveMaskGITConfig({ ...base, sampling: { guidanceDecay: 'cosine' as never } })).toThrow(/guidanceDecay must be one of/);
    expect(() => resolveMaskGITConfig({ ...base, modelType: 'GPT' as never })).toThrow(/modelType must be 'ViT'/);
    expect(() => fromOfficialConfig({ model: { generator: {} } })).toThrow(/codebook_size/);
    expect(() =>
      fromOfficialConfig({ model: { vq_model: { codebook_size: 8 }, generator: { image_seq_len: 10, token_shape: [4, 4] } } }),
    ).toThrow(/holds 16 tokens but image_seq_len is 10/);
    expect(() => new ImageBert({ ...base, modelType: 'UViT' })).toThrow(/ImageBert builds modelType 'ViT'/);
    expect(() => createMaskGIT('titok-xl' as never)).toThrow(/unknown MaskGIT preset "titok-xl"; registered MaskGIT presets: "titok-l-32", "titok-b-64", "titok-s-128"/);
  });
});

describe('presets and sizes', () => {
  it('count the published parameters of the released generators', () => {
    expect(maskgitParameterCount(MASKGIT_PRESETS['titok-l-32'].config)).toBe(177_202_432);
    expect(maskgitParameterCount(MASKGIT_PRESETS['titok-s-128'].config)).toBe(294_990_848);
    // B-64 differs from L-32 only by 32 more position rows of width 768.
    expect(maskgitParameterCount(MASKGIT_PRESETS['titok-b-64'].config)).toBe(177_202_432 + 32 * 768);
    expect(maskgitVocabulary(4096, 1000)).toEqual({ codebookSize: 4096, maskId: 4096, classOffset: 4097, nullClassId: 5097, size: 5098 });
  });

  it('build modules whose parameters and keys match the counts and official layouts (shallow widths, real depths)', () => {
    // Real depth and vocabulary layout, small widths: same key list as the released models, quick to build.
    const bert = createMaskGIT({ ...MASKGIT_PRESETS['titok-l-32'].config, hiddenSize: 32, numHeads: 4, intermediateSize: 64, codebookSize: 64, numClasses: 10 }, { init: 'none' });
    const bertKeys = Object.keys(bert.stateDict());
    expect(bert).toBeInstanceOf(ImageBert);
    expect(bertKeys).toHaveLength(391);
    expect(bertKeys).toContain('model.encoder.layer.23.attention.self.query.weight');
    expect(bertKeys).toContain('model.embeddings.token_type_embeddings.weight');
    expect(bertKeys).toContain('model.lm_head.bias');
    expect(bert.parameterCount()).toBe(maskgitParameterCount(bert.config));
    bert.dispose();

    const uvit = createMaskGIT({ ...MASKGIT_PRESETS['titok-s-128'].config, hiddenSize: 32, numHeads: 4, intermediateSize: 128, codebookSize: 64, numClasses: 10 }, { init: 'none' });
    const uvitKeys = Object.keys(uvit.stateDict());
    expect(uvit).toBeInstanceOf(UViTBert);
    expect(uvitKeys).toHaveLength(257);
    expect(uvitKeys).toContain('out_blocks.9.skip_linear.weight');
    expect(uvitKeys).toContain('mid_block.attn.qkv.weight');
    expect(uvitKeys).not.toContain('mid_block.attn.qkv.bias');
    expect(uvitKeys).not.toContain('in_blocks.0.skip_linear.weight');
    expect(uvitKeys).toContain('pos_embed');
    expect(uvit.stateDict()['pos_embed'].shape).toEqual([1, 129, 32]);
    expect(uvit.parameterCount()).toBe(maskgitParameterCount(uvit.config));
    uvit.dispose();
  });

  it('initialise as the official code: N(0, 0.02) weights, zero biases, unit LayerNorms, same seed same weights', async () => {
    const small = { codebookSize: 64, numClasses: 10, tokenShape: [8], hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128 };
    const a = createMaskGIT(small, { seed: 3 });
    const b = createMaskGIT(small, { seed: 3 });
    const w = Array.from(await a.stateDict()['model.encoder.layer.0.intermediate.dense.weight'].data());
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect(Array.from(await a.stateDict()['model.lm_head.bias'].data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await a.stateDict()['model.embeddings.LayerNorm.weight'].data()).every((v) => v === 1)).toBe(true);
    expect(Array.from(await b.stateDict()['model.encoder.layer.0.intermediate.dense.weight'].data())).toEqual(w);
    a.dispose();
    b.dispose();
  });
});
