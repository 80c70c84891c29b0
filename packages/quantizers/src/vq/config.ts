/**
 * VectorQuantizer configuration. Names are the official ones (bytedance/1d-tokenizer,
 * `modeling/quantizer/quantizer.py: VectorQuantizer`) in camelCase; `ema`, `deadCodeRestart`,
 * `trackUsage`, `checkValues` and `seed` go beyond the official code.
 */
import { ConfigError, assertFiniteNumber, assertPositiveInt } from '@vtok/core';
import { type ValueCheck, resolveValueCheck } from '../common/validate';

export interface EmaOptions {
  /** Weight of the running averages per call (default 0.99). */
  decay?: number;
  /** Laplace smoothing of the cluster sizes, so no code divides by zero (default 1e-5). */
  eps?: number;
}

export interface DeadCodeRestartOptions {
  /** A code not chosen in this many consecutive training calls is re-initialised (default 100). */
  afterCalls?: number;
}

export interface VectorQuantizerConfig {
  /** Length of a code vector (official `token_size`). */
  dim: number;
  /** Number of codes K (official `codebook_size`). */
  codebookSize: number;
  /** l2-normalise latents and codes before matching (official `use_l2_norm`, default false). */
  useL2Norm?: boolean;
  /** β of the commitment loss (official `commitment_cost`, default 0.25). */
  commitmentCost?: number;
  /**
   * Codebook updated by exponential moving averages of the assigned latents in training calls, instead of
   * by gradients (the codebook becomes non-trainable). `true` takes the defaults.
   */
  ema?: boolean | EmaOptions;
  /** Re-initialise codes left unused from random latents of the current call. `true` takes the defaults. */
  deadCodeRestart?: boolean | DeadCodeRestartOptions;
  /** Count code usage on the device for `usageStatistics()` (default true). */
  trackUsage?: boolean;
  /** When the NaN/Inf and id-range checks run synchronously (default 'auto': on cpu and wasm). */
  checkValues?: ValueCheck;
  /** Seeds the codebook initialisation and the dead-code restarts (default: a random seed). */
  seed?: number;
}

export interface ResolvedVectorQuantizerConfig {
  dim: number;
  codebookSize: number;
  useL2Norm: boolean;
  commitmentCost: number;
  ema: Required<EmaOptions> | null;
  deadCodeRestart: Required<DeadCodeRestartOptions> | null;
  trackUsage: boolean;
  checkValues: ValueCheck;
  seed: number;
}

export const VQ_DEFAULTS = { useL2Norm: false, commitmentCost: 0.25 } as const;
export const EMA_DEFAULTS: Required<EmaOptions> = { decay: 0.99, eps: 1e-5 };
export const DEAD_CODE_DEFAULTS: Required<DeadCodeRestartOptions> = { afterCalls: 100 };

const WHO = 'VectorQuantizer';

export function resolveVectorQuantizerConfig(config: VectorQuantizerConfig): ResolvedVectorQuantizerConfig {
  if (config == null || typeof config !== 'object') throw new ConfigError(`${WHO}: expected a config object, got ${String(config)}`);
  assertPositiveInt(config.dim, WHO, 'dim', ConfigError);
  assertPositiveInt(config.codebookSize, WHO, 'codebookSize', ConfigError);
  const commitmentCost = config.commitmentCost ?? VQ_DEFAULTS.commitmentCost;
  assertFiniteNumber(commitmentCost, WHO, 'commitmentCost', { min: 0, ErrorClass: ConfigError });
  const ema = config.ema ? { ...EMA_DEFAULTS, ...(config.ema === true ? {} : config.ema) } : null;
  if (ema) {
    if (!(ema.decay >= 0 && ema.decay < 1)) throw new ConfigError(`${WHO}: ema.decay must be in [0, 1), got ${ema.decay}`);
    assertFiniteNumber(ema.eps, WHO, 'ema.eps', { min: 0, exclusive: true, ErrorClass: ConfigError });
  }
  const deadCodeRestart = config.deadCodeRestart
    ? { ...DEAD_CODE_DEFAULTS, ...(config.deadCodeRestart === true ? {} : config.deadCodeRestart) }
    : null;
  if (deadCodeRestart) assertPositiveInt(deadCodeRestart.afterCalls, WHO, 'deadCodeRestart.afterCalls', ConfigError);
  const checkValues = resolveValueCheck(config.checkValues, WHO);
  if (config.seed !== undefined) assertFiniteNumber(config.seed, WHO, 'seed', { ErrorClass: ConfigError });
  return {
    dim: config.dim,
    codebookSize: config.codebookSize,
    useL2Norm: config.useL2Norm ?? VQ_DEFAULTS.useL2Norm,
    commitmentCost,
    ema,
    deadCodeRestart,
    trackUsage: config.trackUsage ?? true,
    checkValues,
    seed: config.seed ?? Math.floor(Math.random() * 2 ** 32),
  };
}
