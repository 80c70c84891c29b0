/**
 * Reading Open-MAGVIT2's configs, the presets at their real sizes (parameter counts and key names
 * from reference §2.3 / §3.3), and the size arithmetic of the causal video model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import {
  createMagvit2,
  decodedFrames,
  latentFrames,
  MAGVIT2_PRESETS,
  magvit2ConfigToJson,
  magvit2Preset,
  openMagvit2StateDict,
  parseMagvit2Config,
} from '../src';

const countOf = (dict: Record<string, tf.Tensor>, prefix: string) =>
  Object.entries(dict)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((n, [, t]) => n + t.size, 0);

describe('Open-MAGVIT2 config', () => {
  it('reads the released YAML layout (LightningCLI) and the taming layout alike', () => {
    const lightning = magvit2Preset('imagenet-256-l').config as any;
    const taming = { model: { target: 'src.Open_MAGVIT2.models.lfqgan.VQModel', params: lightning.model.init_args }, data: lightning.data };
    for (const json of [lightning, taming]) {
      const c = parseMagvit2Config(json);
      expect(c.variant).toBe('image');
      expect(c.chMult).toEqual([1, 1, 2, 2, 4]);
      expect(c.imageSize).toEqual([256, 256]); // from the data config, not ddconfig.resolution (128 upstream)
      expect(c.codebookSize).toBe(2 ** 18);
      expect(c.lfq.codebookWeight).toBe(0.1);
      expect(c.lfq.commitWeight).toBe(0.25);
      expect(c.lfq.factorizedBits).toEqual([9, 9]);
      expect(c.normalization).toBe('clip');
    }
  });

  it('tells video from the class path and takes the clip length from sequence_length', () => {
    const c = parseMagvit2Config(magvit2Preset('ucf101-video-128-l').config);
    expect(c.variant).toBe('video');
    expect(c.frames).toBe(17);
    expect(latentFrames(c, 17)).toBe(5);
    expect(decodedFrames(c, 5)).toBe(17);
    expect(latentFrames(c, 1)).toBe(1);
    expect(decodedFrames(c, 1)).toBe(1);
  });

  it('round-trips through magvit2ConfigToJson, including vtok choices', () => {
    const c = parseMagvit2Config(magvit2Preset('ucf101-video-128-l').config, { normalization: 'causal', frames: 9 });
    const back = parseMagvit2Config(JSON.parse(JSON.stringify(magvit2ConfigToJson(c))));
    expect(back).toEqual(c);
  });

  it('refuses inconsistent configs with a ConfigError that says why', () => {
    const base = magvit2Preset('imagenet-128-l').config as any;
    const edit = (f: (a: any) => void) => {
      const j = structuredClone(base);
      f(j.model.init_args);
      return j;
    };
    expect(() => parseMagvit2Config(edit((a) => (a.n_embed = 1000)))).toThrow(/n_embed \(1000\) must be 2\^embed_dim/);
    expect(() => parseMagvit2Config(edit((a) => (a.embed_dim = 16)))).toThrow(/embed_dim \(16\) must equal ddconfig.z_channels \(18\)/);
    expect(() => parseMagvit2Config(edit((a) => (a.ddconfig.ch = 48)))).toThrow(/multiple of 32/);
    expect(() => parseMagvit2Config(edit((a) => delete a.ddconfig))).toThrow(ConfigError);
    expect(() => parseMagvit2Config(base, { imageSize: 100 })).toThrow(/divisible by the down-sampling factor 8/);
    expect(() => parseMagvit2Config(magvit2Preset('ucf101-video-128-l').config, { frames: 16 })).toThrow(/1 \+ k·4 frames/);
    expect(() => parseMagvit2Config('{not json')).toThrow(/not valid JSON/);
    expect(() => parseMagvit2Config({})).toThrow(/no "model" section/);
  });
});

describe('presets at their real sizes', () => {
  // Reference §2.3 / §3.3 (an enumeration of upstream's module tree): parameters and key counts.
  const expected = {
    'imagenet-128-l': { encoder: 48.42e6, decoder: 63.6e6, keys: 283, tokens: [16, 16] },
    'imagenet-256-l': { encoder: 49.75e6, decoder: 65.38e6, keys: 339, tokens: [16, 16] },
  } as const;
  for (const [name, want] of Object.entries(expected)) {
    it(`${name}: ${want.keys} keys, encoder ${want.encoder / 1e6}M and decoder ${want.decoder / 1e6}M parameters, ${want.tokens.join('×')} tokens`, () => {
      const tok = createMagvit2(name as keyof typeof MAGVIT2_PRESETS, { seed: 1 });
      try {
        const dict = openMagvit2StateDict(tok.model);
        expect(Object.keys(dict)).toHaveLength(want.keys);
        expect(countOf(dict, 'encoder.') / 1e6).toBeCloseTo(want.encoder / 1e6, 2);
        expect(countOf(dict, 'decoder.') / 1e6).toBeCloseTo(want.decoder / 1e6, 2);
        expect(tok.tokens).toEqual({ vocabSize: 262144, shape: want.tokens });
        // Shapes named in the reference (PyTorch layout).
        expect(dict['encoder.conv_in.weight'].shape).toEqual([128, 3, 3, 3]);
        expect(dict['encoder.conv_out.weight'].shape).toEqual([18, 512, 1, 1]);
        expect(dict['decoder.conv_in.weight'].shape).toEqual([512, 18, 3, 3]);
        expect(dict['decoder.adaptive.0.gamma.weight'].shape).toEqual(name === 'imagenet-256-l' ? [128, 18] : [256, 18]);
        if (name === 'imagenet-256-l') {
          expect(dict['decoder.up.4.upsample.conv1.weight'].shape).toEqual([2048, 512, 3, 3]);
          expect(dict['encoder.down.4.block.0.nin_shortcut.weight'].shape).toEqual([512, 256, 1, 1]);
          expect(dict['encoder.down.2.block.0.nin_shortcut.weight'].shape).toEqual([256, 128, 1, 1]);
          expect(dict['decoder.up.3.block.0.nin_shortcut.weight'].shape).toEqual([256, 512, 1, 1]);
          expect(dict['decoder.up.1.block.0.nin_shortcut.weight'].shape).toEqual([128, 256, 1, 1]);
        }
        tf.dispose(Object.values(dict));
      } finally {
        tok.dispose();
      }
    });
  }

  it('the video preset\'s key rules (conv_1 suffix, strides, up-sampler widths), at a reduced width', () => {
    // The real video model is 370 M parameters; the rules are the same at ch = 32.
    const json = magvit2Preset('ucf101-video-128-l').config as any;
    json.model.init_args.ddconfig.ch = 32;
    json.model.init_args.ddconfig.num_res_blocks = 1;
    const tok = createMagvit2(json, { seed: 2 });
    try {
      const dict = openMagvit2StateDict(tok.model);
      expect(tok.inputShape).toEqual([17, 128, 128, 3]);
      expect(tok.tokens.shape).toEqual([5, 16, 16]);
      expect(dict['encoder.conv_in.conv_1.weight'].shape).toEqual([32, 3, 3, 3, 3]);
      expect(dict['encoder.conv_out.conv_1.weight'].shape).toEqual([18, 128, 1, 1, 1]);
      expect(dict['encoder.down.1.downsample.conv_1.weight'].shape).toEqual([64, 64, 3, 3, 3]);
      // Levels 3 and 2 double time (8·C channels), level 1 only space (4·C), as ch_mult [1,2,2,4] says.
      expect(dict['decoder.up.3.upsample.conv1.conv_1.weight'].shape).toEqual([8 * 128, 128, 3, 3, 3]);
      expect(dict['decoder.up.2.upsample.conv1.conv_1.weight'].shape).toEqual([8 * 64, 64, 3, 3, 3]);
      expect(dict['decoder.up.1.upsample.conv1.conv_1.weight'].shape).toEqual([4 * 64, 64, 3, 3, 3]);
      expect(dict['decoder.adaptive.3.gamma.weight'].shape).toEqual([128, 18]);
      expect(dict['decoder.norm_out.weight'].shape).toEqual([32]);
      tf.dispose(Object.values(dict));
    } finally {
      tok.dispose();
    }
  });
});
