/**
 * `--tokenizer titok`: a TiTok (1D tokenizer: 32 tokens per digit) trained in TiTok's two stages against a
 * frozen 2D VQ teacher (by default the zoo's digits-vqgan): stage 1 learns to predict the teacher's codes
 * (trainProxyCodes), stage 2 decodes through the teacher's decoder and fine-tunes the decoder side in pixels
 * (titokStage2 + trainTokenizer, encoder side frozen).
 */
import { ConfigError } from '@vtok/core';
// The quantizers' config types (TiTok's `quantizer` option is typed by the registered plugins).
import type {} from '@vtok/quantizers';
import { createTiTok, loadMaskGitVqgan, titokStage2, type MaskGitVqgan, type TiTok, type TiTokConfig } from '@vtok/titok';
import { trainProxyCodes, trainTokenizer, type Dataset, type FitResult, type ImageExample, type RunOptions } from '@vtok/trainers';
import { pretrainedSource } from '@vtok/zoo';

/**
 * The student: ViT 128 wide, 2 layers each side, 32 latent tokens of 8 channels, a VQ of 256 l2-normalised codes.
 * The dead-code restart is what lets it learn at this size: at initialisation every digit gives the same 32
 * codes (MNIST's black background makes the encoder's outputs nearly alike), so the decoder has nothing to
 * read and learns only the teacher's per-position code frequencies; restarting idle codes on the batch's own
 * latents makes the digits' codes differ, and after about 200 steps the decoder starts to read them.
 */
const DIGITS_VQ = { codebookSize: 256, useL2Norm: true, commitmentCost: 0.25, deadCodeRestart: { afterCalls: 50 } };

/** The student's config for `teacher`'s grid and codebook; `seed` seeds the VQ's initialisation and restarts. */
export function digitsTiTokConfig(teacher: MaskGitVqgan, seed: number): TiTokConfig {
  const t = teacher.config;
  const grid = t.resolution / 2 ** (t.channelMult.length - 1);
  const vit = { width: 128, numLayers: 2, numHeads: 4 };
  return {
    imageSize: t.resolution,
    encoder: vit,
    decoder: vit,
    encoderPatchSize: 4,
    // The proxy-code head predicts one teacher code per decoder patch: the decoder grid is the teacher's.
    decoderPatchSize: t.resolution / grid,
    numLatentTokens: 32,
    tokenSize: 8,
    quantizeMode: 'vq',
    quantizer: { type: 'vq', ...DIGITS_VQ, seed },
    codebookSize: 0,
    useL2Norm: false,
    commitmentCost: 0,
    isLegacy: true,
    finetuneDecoder: false,
    pixelCodebookSize: t.numEmbeddings,
  };
}

/** Learning rates of the two stages (the official 1e-4 is tuned for 10^5–10^6 steps). */
const LR = { stage1: 3e-3, stage2: 1e-3 };
const EMA = { decay: 0.99 };

export async function loadTeacher(folder: string | undefined): Promise<MaskGitVqgan> {
  const source = folder ?? pretrainedSource('digits-vqgan');
  const teacher = await loadMaskGitVqgan(source, { maxBatch: 256 });
  if (teacher.inputShape[0] !== 32) {
    teacher.dispose();
    throw new ConfigError(`--teacher must be a MaskGIT-VQGAN for 32×32 digits, got one for ${teacher.inputShape.join('×')}`);
  }
  return teacher;
}

export interface TiTokStages {
  tokenizer: TiTok;
  stage1: FitResult;
  stage2: FitResult;
  /** Held-out PSNR through the teacher's decoder: the untrained student, after stage 1 (no stage-2 step yet). */
  psnrUntrained: number;
  psnrStage1: number;
}

/** Both stages; the caller owns the returned TiTok (the stage-2 model, ready to encode and decode). */
export async function trainDigitsTiTok(
  teacher: MaskGitVqgan,
  train: Dataset<ImageExample>,
  run: { stage1: RunOptions; stage2: RunOptions; seed: number },
  heldOutPsnr: (model: TiTok) => Promise<number>,
): Promise<TiTokStages> {
  const student = createTiTok(digitsTiTokConfig(teacher, run.seed + 4), { seed: run.seed + 1, maxBatch: 256 });
  let stage2Model: TiTok | undefined;
  try {
    const psnrOf = async (stage1: TiTok) => {
      const model = titokStage2(stage1, teacher);
      try {
        return await heldOutPsnr(model);
      } finally {
        model.dispose();
      }
    };
    const psnrUntrained = await psnrOf(student);
    const stage1 = await trainProxyCodes(student, teacher, train, { ...run.stage1, lr: LR.stage1, ema: EMA });
    const psnrStage1 = await psnrOf(student);
    stage2Model = titokStage2(student, teacher);
    const stage2 = await trainTokenizer(stage2Model, train, { ...run.stage2, lr: LR.stage2, ema: EMA, train: 'all' });
    const tokenizer = stage2Model;
    stage2Model = undefined;
    return { tokenizer, stage1, stage2, psnrUntrained, psnrStage1 };
  } finally {
    student.dispose();
    stage2Model?.dispose();
  }
}
