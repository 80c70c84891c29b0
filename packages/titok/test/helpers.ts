/** Fixture access and comparisons shared by the TiTok tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type RawTensor } from '@vtok/core';
import { expect } from 'vitest';

const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface GoldenCase {
  name: string;
  config: Record<string, any>;
  caseJson: Record<string, any>;
  weightsBytes: Uint8Array;
  io: Record<string, RawTensor>;
}

export function goldenCase(name: string): GoldenCase {
  const dir = join(FIXTURES, name);
  const caseJson = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const weightsBytes = new Uint8Array(readFileSync(join(dir, 'weights.safetensors')));
  const io = readSafetensors(new Uint8Array(readFileSync(join(dir, 'io.safetensors'))), { copy: true }).tensors;
  return { name, config: caseJson.config, caseJson, weightsBytes, io };
}

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

export function tensorOf(raw: RawTensor): tf.Tensor {
  return tf.tensor(raw.data, raw.shape, raw.dtype);
}

/** NCHW → NHWC. */
export function nhwc(raw: RawTensor): tf.Tensor {
  return tf.tidy(() => tf.transpose(tensorOf(raw), [0, 2, 3, 1]));
}

/** TiTok latents [B, C, 1, L] → ours [B, L, C]. */
export function tokensLast(raw: RawTensor): tf.Tensor {
  const [b, c, , l] = raw.shape;
  return tf.tidy(() => tf.transpose(tf.reshape(tensorOf(raw), [b, c, l]), [0, 2, 1]));
}

/** Golden README tolerance: |ours − ref| <= atol + rtol·|ref| elementwise, atol = rtol = 1e-4. */
export const ATOL = 1e-4;
export const RTOL = 1e-4;

export async function expectClose(actual: tf.Tensor, expected: tf.Tensor | Float32Array, label: string): Promise<number> {
  const a = await actual.data();
  const e = expected instanceof Float32Array ? expected : await expected.data();
  if (!(expected instanceof Float32Array)) expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(a.length, `${label}: size`).toBe(e.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (ATOL + RTOL * Math.abs(e[i]));
    if (!(excess <= 0) && (worstAt < 0 || excess > worst || Number.isNaN(excess))) {
      worst = excess;
      worstAt = i;
    }
  }
  if (worstAt >= 0) expect.fail(`${label}: element ${worstAt} is ${a[worstAt]}, expected ${e[worstAt]} (beyond tolerance by ${worst})`);
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i] - e[i]));
  return maxAbs;
}

export async function expectEqualInts(actual: tf.Tensor, expected: ArrayLike<number>, label: string): Promise<void> {
  expect(actual.dtype, `${label}: dtype`).toBe('int32');
  expect(Array.from(await actual.data()), label).toEqual(Array.from(expected));
}

/** Runs `fn` and checks that it leaves no tensor behind. */
export async function expectNoLeak<T>(fn: () => Promise<T>, label: string): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const made = out instanceof tf.Tensor ? 1 : Array.isArray(out) ? out.filter((t) => t instanceof tf.Tensor).length : 0;
  expect(tf.memory().numTensors - made, `${label}: tensors left behind`).toBe(before);
  return out;
}
