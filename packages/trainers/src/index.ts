// @vtok/trainers: the training loop and its checkpoints, the building blocks of training (AdamW,
// learning-rate schedules, gradient clipping and accumulation, weight EMA), losses, datasets and metrics.
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
export {
  Trainer,
  type FitOptions,
  type FitResult,
  type CheckpointOptions,
  type LogRecord,
  type LossResult,
  type PositionedBatch,
  type Stateful,
  type TrainContext,
  type TrainData,
  type TrainerOptions,
  type TrainPhase,
} from './trainer';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointName,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  removeInterruptedCheckpoints,
  writeCheckpoint,
  type CheckpointContent,
  type CheckpointInfo,
} from './checkpoint';
export { ProgressBar } from './progress-bar';
export * from './losses';
export * from './data';
export * from './recipes';
