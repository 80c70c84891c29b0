/**
 * What only the TiTok tests need on top of @vtok/test-utils: the official Hugging Face layout of a golden
 * TiTok case (config.json in the official format + model.safetensors) and TiTok's latent layout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type GoldenCase, type GoldenTensor, tensorOf } from '@vtok/test-utils';

/**
 * The config.json the official code would have written for a golden TiTok case: the OmegaConf tree,
 * with explicit ViT sizes and pixel-decoder sizes (the extension keys), `is_legacy` left out when true
 * (as the released hub configs do) and a generator section whose `image_seq_len` is the unresolved
 * reference the released configs carry.
 */
export function officialConfigOf(c: GoldenCase): Record<string, unknown> {
  const cfg = c.config;
  const vit = (v: { width: number; num_layers: number; num_heads: number }) => ({ width: v.width, num_layers: v.num_layers, num_heads: v.num_heads });
  const vq: Record<string, unknown> = {
    codebook_size: cfg.codebook_size,
    token_size: cfg.token_size,
    use_l2_norm: cfg.use_l2_norm,
    commitment_cost: cfg.commitment_cost,
    vit_enc_model_size: vit(cfg.vit_enc),
    vit_dec_model_size: vit(cfg.vit_dec),
    vit_enc_patch_size: cfg.enc_patch,
    vit_dec_patch_size: cfg.dec_patch,
    num_latent_tokens: cfg.num_latent_tokens,
  };
  if (cfg.quantize_mode !== 'vq') vq.quantize_mode = cfg.quantize_mode;
  if (!cfg.finetune_decoder) vq.finetune_decoder = false;
  if (!cfg.is_legacy) vq.is_legacy = false;
  if (cfg.pixel_decoder) {
    const d = cfg.pixel_decoder;
    vq.pixel_decoder = { hidden_channels: d.hidden_channels, channel_mult: d.channel_mult, num_res_blocks: d.num_res_blocks, z_channels: d.z_channels };
    vq.pixel_quantize = { num_embeddings: cfg.pixel_quantize.num_embeddings, embedding_dim: cfg.pixel_quantize.embedding_dim };
  }
  return {
    experiment: { tokenizer_checkpoint: `${c.name}.bin`, output_dir: c.name },
    model: {
      vq_model: vq,
      generator: { model_type: 'ViT', image_seq_len: '${model.vq_model.num_latent_tokens}', condition_num_classes: 1000 },
    },
    dataset: { preprocessing: { crop_size: cfg.image_size } },
  };
}

/** The official Hugging Face file layout of a golden TiTok case. */
export function officialFiles(c: GoldenCase): Record<string, string | Uint8Array> {
  return { 'config.json': JSON.stringify(officialConfigOf(c), null, 4), 'model.safetensors': c.weightsBytes };
}

/** TiTok latents [B, C, 1, L] → ours [B, L, C]. */
export function tokensLast(raw: GoldenTensor): tf.Tensor {
  const [b, c, , l] = raw.shape;
  return tf.tidy(() => tf.transpose(tf.reshape(tensorOf(raw), [b, c, l]), [0, 2, 1]));
}

/**
 * A tiny single-stage TiTok in the official config layout (16² images, ViTs of width 32 and one layer,
 * 4 latent tokens, patch 8); `vq` adds or overrides `model.vq_model` keys.
 */
export function tinyOfficialConfig(vq: Record<string, unknown>): Record<string, unknown> & { model: { vq_model: Record<string, unknown> } } {
  return {
    model: {
      vq_model: {
        vit_enc_model_size: { width: 32, num_layers: 1, num_heads: 2 },
        vit_dec_model_size: { width: 32, num_layers: 1, num_heads: 2 },
        vit_enc_patch_size: 8,
        vit_dec_patch_size: 8,
        num_latent_tokens: 4,
        finetune_decoder: false,
        is_legacy: false,
        ...vq,
      },
    },
    dataset: { preprocessing: { crop_size: 16 } },
  };
}

/** A tiny TiTok VAE (quantize_mode 'vae': no quantizer, no pixel decoder) in the official config layout. */
export const TINY_VAE_CONFIG = tinyOfficialConfig({ quantize_mode: 'vae', token_size: 4 });
