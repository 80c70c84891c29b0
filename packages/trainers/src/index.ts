// @vtok/trainers: the building blocks of training. The training loop, checkpoints, losses, datasets and
// recipes are not part of the package yet (see README.md).
export { AdamW, OFFICIAL_ADAMW, officialNoWeightDecay, type AdamWOptions } from './adamw';
export { constantLr, constantWithWarmup, cosineWithWarmup, OFFICIAL_SCHEDULES, type CosineScheduleOptions, type LRSchedule } from './schedules';
export { clipGradNorm, GradientAccumulator, type ClipGradNormOptions, type ClipGradNormResult, type GradientRecord } from './gradients';
export { EMA, type EMAOptions } from './ema';
export type { Gradients, NamedVariables } from './params';
