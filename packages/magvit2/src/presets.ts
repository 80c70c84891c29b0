/**
 * The released Open-MAGVIT2 tokenizer configurations, as the parts of their YAML configs
 * (TencentARC/SEED-Voken @ b9a17ea, configs/Open-MAGVIT2/gpu/*.yaml) that the tokenizer reads,
 * in the same JSON shape, with where the weights live.
 */
import { UnknownPluginError } from '@vtok/core';

export interface Magvit2Preset {
  readonly name: string;
  /**
   * The hub id of the released weights, for `loadMagvit2(hub, { weights: preset.weights.file })` (the
   * repositories hold a PyTorch checkpoint and no config.json: pass `config.json` from `config` with it).
   */
  readonly hub: string;
  /** The YAML file in SEED-Voken the values come from. */
  readonly configFile: string;
  /** Hugging Face repository and file of the released weights. */
  readonly weights: { readonly repo: string; readonly file: string };
  /** Open-MAGVIT2's config (model + data size) as JSON, ready for parseMagvit2Config / config.json. */
  readonly config: Record<string, unknown>;
}

function preset(options: {
  name: string;
  configFile: string;
  repo: string;
  file: string;
  video?: boolean;
  pretrain?: boolean;
  chMult: number[];
  bits: number;
  size: number;
  lecam: number;
}): Magvit2Preset {
  const className = options.video
    ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel'
    : options.pretrain
      ? 'src.Open_MAGVIT2.models.lfqgan_pretrain.VQModel'
      : 'src.Open_MAGVIT2.models.lfqgan.VQModel';
  const split = { params: { config: { size: options.size, ...(options.video ? { sequence_length: 17 } : {}) } } };
  return {
    name: options.name,
    hub: `hf:${options.repo}`,
    configFile: options.configFile,
    weights: { repo: options.repo, file: options.file },
    config: {
      model: {
        class_path: className,
        init_args: {
          ddconfig: {
            double_z: false,
            z_channels: options.bits,
            resolution: 128,
            in_channels: 3,
            out_ch: 3,
            ch: 128,
            ch_mult: options.chMult,
            num_res_blocks: 4,
          },
          lossconfig: {
            target: `src.Open_MAGVIT2.modules.losses.${options.video ? 'video_vqperceptual' : 'vqperceptual'}.VQLPIPSWithDiscriminator`,
            params: {
              lecam_loss_weight: options.lecam,
              codebook_weight: 0.1,
              commit_weight: 0.25,
              codebook_enlarge_ratio: 0,
              codebook_enlarge_steps: 2000,
            },
          },
          n_embed: 2 ** options.bits,
          embed_dim: options.bits,
          sample_minimization_weight: 1.0,
          batch_maximization_weight: 1.0,
          use_ema: true,
        },
      },
      data: { init_args: { validation: split } },
    },
  };
}

export const MAGVIT2_PRESETS = {
  /** ImageNet 128², 16×16 tokens, 2^18 codes (rFID 1.18). */
  'imagenet-128-l': preset({
    name: 'imagenet-128-l',
    configFile: 'configs/Open-MAGVIT2/gpu/imagenet_lfqgan_128_L.yaml',
    repo: 'TencentARC/Open-MAGVIT2-Tokenizer-128-resolution',
    file: 'imagenet_128_L.ckpt',
    chMult: [1, 2, 2, 4],
    bits: 18,
    size: 128,
    lecam: 0.01,
  }),
  /** ImageNet 256², 16×16 tokens, 2^18 codes (rFID 1.17). */
  'imagenet-256-l': preset({
    name: 'imagenet-256-l',
    configFile: 'configs/Open-MAGVIT2/gpu/imagenet_lfqgan_256_L.yaml',
    repo: 'TencentARC/Open-MAGVIT2-Tokenizer-256-resolution',
    file: 'imagenet_256_L.ckpt',
    chMult: [1, 1, 2, 2, 4],
    bits: 18,
    size: 256,
    lecam: 0.05,
  }),
  /** Web-data pretrain, 256², 2^18 codes. */
  'pretrain-256-262144': preset({
    name: 'pretrain-256-262144',
    configFile: 'configs/Open-MAGVIT2/gpu/pretrain_lfqgan_256_262144.yaml',
    repo: 'TencentARC/Open-MAGVIT2-Tokenizer-262144-Pretrain',
    file: 'pretrain256_262144.ckpt',
    pretrain: true,
    chMult: [1, 1, 2, 2, 4],
    bits: 18,
    size: 256,
    lecam: 0.05,
  }),
  /** Web-data pretrain, 256², 2^14 codes (z = 14). */
  'pretrain-256-16384': preset({
    name: 'pretrain-256-16384',
    configFile: 'configs/Open-MAGVIT2/gpu/pretrain_lfqgan_256_16384.yaml',
    repo: 'TencentARC/Open-MAGVIT2-Tokenizer-16384-Pretrain',
    file: 'pretrain256_16384.ckpt',
    pretrain: true,
    chMult: [1, 1, 2, 2, 4],
    bits: 14,
    size: 256,
    lecam: 0.05,
  }),
  /** UCF-101 video, 17 frames of 128² -> 5×16×16 tokens, 2^18 codes (rFVD 16). */
  'ucf101-video-128-l': preset({
    name: 'ucf101-video-128-l',
    configFile: 'configs/Open-MAGVIT2/gpu/ucf101_lfqfan_128_L.yaml',
    repo: 'TencentARC/Open-MAGVIT2-Tokenizer-262144-Video',
    file: 'video_128_262144.ckpt',
    video: true,
    chMult: [1, 2, 2, 4],
    bits: 18,
    size: 128,
    lecam: 0.05,
  }),
} as const satisfies Record<string, Magvit2Preset>;

export type Magvit2PresetName = keyof typeof MAGVIT2_PRESETS;

/** A preset by name (case-insensitive); unknown names throw an UnknownPluginError listing the known ones. */
export function magvit2Preset(name: string): Magvit2Preset {
  const found = (MAGVIT2_PRESETS as Record<string, Magvit2Preset>)[String(name).toLowerCase()];
  if (!found) throw new UnknownPluginError('Open-MAGVIT2 preset', String(name), Object.keys(MAGVIT2_PRESETS));
  // A deep copy, so callers can edit it freely.
  return { ...found, config: structuredClone(found.config) };
}
