/** Small random-weight models for the pairing tests: real architectures, test-sized. */
import { createMagvit2 } from '@vtok/magvit2';
import { createMaskGIT, type MaskGITGenerator } from '@vtok/maskgit';
import { createTiTok, type TiTok } from '@vtok/titok';
import type { TokenSpace } from '@vtok/core';

/** A legacy (proxy-code) TiTok in the official config format: 32² images, 8 tokens of 64 codes. */
export const SMALL_TITOK_CONFIG = {
  model: {
    vq_model: {
      codebook_size: 64,
      token_size: 8,
      use_l2_norm: true,
      commitment_cost: 0.25,
      vit_enc_model_size: { width: 32, num_layers: 1, num_heads: 2 },
      vit_dec_model_size: { width: 32, num_layers: 1, num_heads: 2 },
      vit_enc_patch_size: 8,
      vit_dec_patch_size: 8,
      num_latent_tokens: 8,
      // 4×4 proxy-code grid, up-sampled ×8 by the four levels back to 32².
      pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1, 1, 1], num_res_blocks: 1, z_channels: 16 },
      pixel_quantize: { num_embeddings: 64, embedding_dim: 16 },
    },
  },
  dataset: { preprocessing: { crop_size: 32 } },
};

export const smallTiTok = (seed = 0): TiTok => createTiTok(SMALL_TITOK_CONFIG, { seed });

/** An Open-MAGVIT2 image tokenizer: 16² images, a [4, 4] grid of 2^6 LFQ codes. */
export const smallMagvit2 = (seed = 0) =>
  createMagvit2(
    {
      model: {
        class_path: 'src.Open_MAGVIT2.models.lfqgan.VQModel',
        init_args: {
          ddconfig: { double_z: false, z_channels: 6, resolution: 16, in_channels: 3, out_ch: 3, ch: 32, ch_mult: [1, 2, 1], num_res_blocks: 1 },
          n_embed: 64,
          embed_dim: 6,
        },
      },
      data: { init_args: { validation: { params: { config: { size: 16 } } } } },
    },
    { seed },
  );

/** A BERT-style MaskGIT generator over any token space (1D sequence or 2D grid), 10 classes. */
export const smallGenerator = (tokens: TokenSpace, seed = 0): MaskGITGenerator =>
  createMaskGIT(
    { codebookSize: tokens.vocabSize, tokenShape: tokens.shape, numClasses: 10, hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 64 },
    { seed },
  );
