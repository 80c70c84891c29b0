// @vtok/trainers: the building blocks of training (AdamW, learning-rate schedules, gradient clipping and
// accumulation, weight EMA) and the metrics. The training loop, checkpoints, losses, datasets and recipes
// are not part of the package yet (see README.md).
export { AdamW, OFFICIAL_ADAMW, officialNoWeightDecay, type AdamWOptions } from './adamw';
export { constantLr, constantWithWarmup, cosineWithWarmup, OFFICIAL_SCHEDULES, type CosineScheduleOptions, type LRSchedule } from './schedules';
export { clipGradNorm, GradientAccumulator, type ClipGradNormOptions, type ClipGradNormResult, type GradientRecord } from './gradients';
export { EMA, type EMAOptions } from './ema';
export {
  codebookStats,
  codebookStatsOfCounts,
  CodebookUsage,
  gaussianWindow,
  psnr,
  ssim,
  type CodebookStats,
  type PSNROptions,
  type SSIMOptions,
} from './metrics';
export type { Gradients, NamedVariables } from './params';
export * from './losses';
export * from './data';
