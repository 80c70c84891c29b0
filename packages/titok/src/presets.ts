/**
 * The released TiTok tokenizers: their `model.vq_model` settings as in the official infer configs
 * (configs/infer/TiTok/*.yaml of bytedance/1d-tokenizer) and the Hugging Face repos that hold the weights.
 */
import { UnknownPluginError } from '@vtok/core';
import type { OfficialConfig } from './config';

export type TiTokPresetName =
  | 'TiTok-S-128'
  | 'TiTok-B-64'
  | 'TiTok-L-32'
  | 'TiTok-BL-64-VQ'
  | 'TiTok-BL-128-VQ'
  | 'TiTok-SL-256-VQ'
  | 'TiTok-LL-32-VAE'
  | 'TiTok-BL-64-VAE'
  | 'TiTok-BL-128-VAE';

export interface TiTokPreset {
  name: TiTokPresetName;
  /** Hugging Face repo with `config.json` + `model.safetensors`. */
  huggingFace: string;
  /** The official config tree (only the keys the tokenizer reads). */
  config: OfficialConfig;
}

const twoStage = (enc: string, tokens: number) => ({
  codebook_size: 4096,
  token_size: 12,
  use_l2_norm: true,
  commitment_cost: 0.25,
  vit_enc_model_size: enc,
  vit_dec_model_size: enc,
  vit_enc_patch_size: 16,
  vit_dec_patch_size: 16,
  num_latent_tokens: tokens,
  finetune_decoder: true,
});
const singleStageVq = (enc: string, tokens: number) => ({
  codebook_size: 8192,
  token_size: 64,
  use_l2_norm: false,
  commitment_cost: 0.25,
  vit_enc_model_size: enc,
  vit_dec_model_size: 'large',
  vit_enc_patch_size: 16,
  vit_dec_patch_size: 16,
  num_latent_tokens: tokens,
  finetune_decoder: false,
  is_legacy: false,
});
const singleStageVae = (enc: string, tokens: number) => ({
  quantize_mode: 'vae',
  token_size: 16,
  vit_enc_model_size: enc,
  vit_dec_model_size: 'large',
  vit_enc_patch_size: 16,
  vit_dec_patch_size: 16,
  num_latent_tokens: tokens,
  finetune_decoder: false,
  is_legacy: false,
});
const tree = (vq: Record<string, unknown>): OfficialConfig => ({ model: { vq_model: vq }, dataset: { preprocessing: { crop_size: 256 } } });

const list: TiTokPreset[] = [
  { name: 'TiTok-S-128', huggingFace: 'yucornetto/tokenizer_titok_s128_imagenet', config: tree(twoStage('small', 128)) },
  { name: 'TiTok-B-64', huggingFace: 'yucornetto/tokenizer_titok_b64_imagenet', config: tree(twoStage('base', 64)) },
  { name: 'TiTok-L-32', huggingFace: 'yucornetto/tokenizer_titok_l32_imagenet', config: tree(twoStage('large', 32)) },
  { name: 'TiTok-BL-64-VQ', huggingFace: 'yucornetto/tokenizer_titok_bl64_vq8k_imagenet', config: tree(singleStageVq('base', 64)) },
  { name: 'TiTok-BL-128-VQ', huggingFace: 'yucornetto/tokenizer_titok_bl128_vq8k_imagenet', config: tree(singleStageVq('base', 128)) },
  { name: 'TiTok-SL-256-VQ', huggingFace: 'yucornetto/tokenizer_titok_sl256_vq8k_imagenet', config: tree(singleStageVq('small', 256)) },
  { name: 'TiTok-LL-32-VAE', huggingFace: 'yucornetto/tokenizer_titok_ll32_vae_c16_imagenet', config: tree(singleStageVae('large', 32)) },
  { name: 'TiTok-BL-64-VAE', huggingFace: 'yucornetto/tokenizer_titok_bl64_vae_c16_imagenet', config: tree(singleStageVae('base', 64)) },
  { name: 'TiTok-BL-128-VAE', huggingFace: 'yucornetto/tokenizer_titok_bl128_vae_c16_imagenet', config: tree(singleStageVae('base', 128)) },
];

export const TITOK_PRESETS: Readonly<Record<TiTokPresetName, TiTokPreset>> = Object.fromEntries(list.map((p) => [p.name, p])) as Record<
  TiTokPresetName,
  TiTokPreset
>;

/** A preset by name (case-insensitive); unknown names throw an error listing the known ones. */
export function titokPreset(name: string): TiTokPreset {
  const found = list.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new UnknownPluginError('TiTok preset', name, list.map((p) => p.name));
  // A deep copy, so a caller editing it cannot change the table.
  return { ...found, config: structuredClone(found.config) };
}
