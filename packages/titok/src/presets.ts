/**
 * The released TiTok tokenizers: their `model.vq_model` settings as in the official infer configs
 * (configs/infer/TiTok/*.yaml of bytedance/1d-tokenizer) and the Hugging Face repos that hold the weights.
 */
import { UnknownPluginError } from '@vtok/core';
import type { OfficialConfig } from './config';

export type TiTokPresetName =
  | 'titok-s-128'
  | 'titok-b-64'
  | 'titok-l-32'
  | 'titok-bl-64-vq'
  | 'titok-bl-128-vq'
  | 'titok-sl-256-vq'
  | 'titok-ll-32-vae'
  | 'titok-bl-64-vae'
  | 'titok-bl-128-vae';

export interface TiTokPreset {
  name: TiTokPresetName;
  /** The hub id of the released weights (`config.json` + `model.safetensors`), for `loadTiTok`. */
  hub: string;
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
  { name: 'titok-s-128', hub: 'hf:yucornetto/tokenizer_titok_s128_imagenet', config: tree(twoStage('small', 128)) },
  { name: 'titok-b-64', hub: 'hf:yucornetto/tokenizer_titok_b64_imagenet', config: tree(twoStage('base', 64)) },
  { name: 'titok-l-32', hub: 'hf:yucornetto/tokenizer_titok_l32_imagenet', config: tree(twoStage('large', 32)) },
  { name: 'titok-bl-64-vq', hub: 'hf:yucornetto/tokenizer_titok_bl64_vq8k_imagenet', config: tree(singleStageVq('base', 64)) },
  { name: 'titok-bl-128-vq', hub: 'hf:yucornetto/tokenizer_titok_bl128_vq8k_imagenet', config: tree(singleStageVq('base', 128)) },
  { name: 'titok-sl-256-vq', hub: 'hf:yucornetto/tokenizer_titok_sl256_vq8k_imagenet', config: tree(singleStageVq('small', 256)) },
  { name: 'titok-ll-32-vae', hub: 'hf:yucornetto/tokenizer_titok_ll32_vae_c16_imagenet', config: tree(singleStageVae('large', 32)) },
  { name: 'titok-bl-64-vae', hub: 'hf:yucornetto/tokenizer_titok_bl64_vae_c16_imagenet', config: tree(singleStageVae('base', 64)) },
  { name: 'titok-bl-128-vae', hub: 'hf:yucornetto/tokenizer_titok_bl128_vae_c16_imagenet', config: tree(singleStageVae('base', 128)) },
];

export const TITOK_PRESETS: Readonly<Record<TiTokPresetName, TiTokPreset>> = Object.fromEntries(list.map((p) => [p.name, p])) as Record<
  TiTokPresetName,
  TiTokPreset
>;

/** A preset by name (case-insensitive: 'TiTok-L-32' finds 'titok-l-32'); unknown names throw an error listing the known ones. */
export function titokPreset(name: string): TiTokPreset {
  const found = list.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new UnknownPluginError('TiTok preset', name, list.map((p) => p.name));
  // A deep copy, so a caller editing it cannot change the table.
  return { ...found, config: structuredClone(found.config) };
}
