/**
 * What only the MAGVIT-v2 tests need on top of @vtok/test-utils (which reads the golden cases): the
 * Open-MAGVIT2 folder layout a user would have (config.json + weights) for a golden case, and a golden
 * tensor as a tf tensor.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type GoldenCase, goldenTensor, tensorOf } from '@vtok/test-utils';

/**
 * Open-MAGVIT2's YAML config (LightningCLI layout, as in configs/Open-MAGVIT2/gpu/*.yaml) for a golden
 * case, from the case's own config: the class tells image from video, the data `size` (one number when
 * square, [h, w] otherwise) and `sequence_length` give the input.
 */
export function openMagvit2Config(c: GoldenCase): Record<string, unknown> {
  const cfg = c.config;
  const video = c.json.kind.startsWith('omagvit2_video');
  const [frames, h, w] = cfg.video_thw ?? cfg.output_thw ?? [undefined, ...(cfg.image_hw ?? [])];
  const size = h === w ? h : [h, w];
  return {
    model: {
      class_path: video ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel' : 'src.Open_MAGVIT2.models.lfqgan.VQModel',
      init_args: {
        ddconfig: cfg.ddconfig,
        lossconfig: {
          target: 'src.Open_MAGVIT2.modules.losses.vqperceptual.VQLPIPSWithDiscriminator',
          params: {
            codebook_weight: cfg.loss_weights?.codebook_weight ?? 0.1,
            commit_weight: cfg.loss_weights?.commit_weight ?? 0.25,
            codebook_enlarge_ratio: cfg.loss_weights?.codebook_enlarge_ratio ?? 0,
            codebook_enlarge_steps: cfg.loss_weights?.codebook_enlarge_steps ?? 2000,
          },
        },
        n_embed: cfg.n_embed,
        embed_dim: cfg.embed_dim,
        sample_minimization_weight: cfg.sample_minimization_weight ?? 1.0,
        batch_maximization_weight: cfg.batch_maximization_weight ?? 1.0,
        use_ema: true,
      },
    },
    data: { init_args: { validation: { params: { config: { size, ...(video ? { sequence_length: frames } : {}) } } } } },
  };
}

/** The files a user would have: config.json + model.safetensors (the case's weights as they are). */
export function caseFiles(c: GoldenCase): Record<string, Uint8Array | string> {
  return { 'config.json': JSON.stringify(openMagvit2Config(c)), 'model.safetensors': c.weightsBytes };
}

/** A golden tensor as a tf tensor in the layout it was stored (NCHW / NCTHW). */
export function golden(c: GoldenCase, name: string): tf.Tensor {
  return tensorOf(goldenTensor(c, name));
}
