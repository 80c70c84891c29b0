/**
 * TiTok's two-stage recipe, the step between the stages (1d-tokenizer `TiTok.__init__` with
 * finetune_decoder and the stage-2 init): a stage-1 model (proxy-code logits, no pixel decoder) becomes
 * a model that decodes to pixels through the 2D VQ teacher's decoder and codebook, with the encoder side
 * (latent tokens, encoder, quantizer) frozen. The stage-1 model is left as it was.
 */
import { ConfigError } from '@vtok/core';
import type { MaskGitVqgan } from './maskgit-vqgan';
import { TiTok } from './titok';

export function titokStage2(stage1: TiTok, teacher: MaskGitVqgan): TiTok {
  const c = stage1.config;
  if (!c.isLegacy || c.finetuneDecoder) throw new ConfigError('titokStage2: expected a stage-1 model (legacy decoder predicting proxy codes, finetune_decoder false)');
  const t = teacher.config;
  const model = new TiTok(
    {
      ...c,
      finetuneDecoder: true,
      pixelDecoder: { hiddenChannels: t.hiddenChannels, channelMult: [...t.channelMult], numResBlocks: t.numResBlocks, zChannels: t.zChannels },
      pixelCodebookSize: t.numEmbeddings,
    },
    { init: 'none' },
  );
  try {
    // Everything but the pixel path comes from stage 1 (official: non-strict load of the stage-1 weights).
    model.loadStateDict(stage1.stateDict(), { strict: false, source: 'the stage-1 TiTok' });
    model.setPixelDecoderFrom(teacher);
    model.setEncoderTrainable(false);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
