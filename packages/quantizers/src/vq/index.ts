export { registerVectorQuantizer } from './register';

export { VectorQuantizer } from './vector-quantizer';
export {
  type VectorQuantizerConfig,
  type EmaOptions,
  type DeadCodeRestartOptions,
  VQ_DEFAULTS,
  EMA_DEFAULTS,
  DEAD_CODE_DEFAULTS,
} from './config';
export { emaCodebookUpdate, laplaceSmoothed, type EmaStep } from './ema';
export { restartDeadCodes, type DeadCodeStep, type DeadCodeResult } from './dead-codes';
