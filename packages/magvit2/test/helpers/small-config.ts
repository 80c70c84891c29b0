/** A small Open-MAGVIT2 config (16² images or 5-frame clips, ch 32, ch_mult [1, 2, 1], 64 codes) for contract tests. */
export function smallConfig(video: boolean): Record<string, unknown> {
  return {
    model: {
      class_path: video ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel' : 'src.Open_MAGVIT2.models.lfqgan.VQModel',
      init_args: {
        ddconfig: { double_z: false, z_channels: 6, resolution: 16, in_channels: 3, out_ch: 3, ch: 32, ch_mult: [1, 2, 1], num_res_blocks: 1 },
        n_embed: 64,
        embed_dim: 6,
        sample_minimization_weight: 1.0,
        batch_maximization_weight: 1.0,
      },
    },
    data: { init_args: { validation: { params: { config: { size: 16, ...(video ? { sequence_length: 5 } : {}) } } } } },
  };
}
