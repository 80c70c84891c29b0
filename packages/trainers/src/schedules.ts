/**
 * Learning-rate schedules: functions from the step (the number of optimiser steps already taken, 0 for the
 * first) to the learning rate of that step. The formulas are those of bytedance/1d-tokenizer's
 * `utils/lr_schedulers.py` (after open-muse), applied as torch's `LambdaLR` applies them: the first step
 * runs at `schedule(0)`, which is 0 when there is a warm-up.
 */
import { ConfigError, assertFiniteNumber, assertNonNegativeInt, assertPositiveInt } from '@vtok/core';

/** step → learning rate. */
export type LRSchedule = (step: number) => number;

export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of the warm-up; default 1e-4 (the `base_lr` default of the official function and every TiTok config). */
  baseLr?: number;
  /** Learning rate at `totalSteps`; default 1e-5 (`end_lr` of every official TiTok and MaskGIT training config; the function's own default is 0). */
  endLr?: number;
  /** Linear warm-up steps from 0 to `baseLr`; required (the official `get_scheduler` requires it too). */
  warmupSteps: number;
  /** Total steps; required. */
  totalSteps: number;
}

const check = (who: string, step: number) => assertNonNegativeInt(step, who, 'step');

function checkLrs(who: string, baseLr: number, endLr?: number) {
  assertFiniteNumber(baseLr, who, 'baseLr', { min: 0, exclusive: true, ErrorClass: ConfigError });
  if (endLr !== undefined) assertFiniteNumber(endLr, who, 'endLr', { min: 0, ErrorClass: ConfigError });
}

/**
 * Linear warm-up `baseLr·s/W` for s < W, then half a cosine from `baseLr` down to `endLr`:
 * `endLr + (baseLr − endLr)·½(1 + cos(π·(s − W)/(T − W)))` (`get_cosine_schedule_with_warmup`, num_cycles 0.5;
 * divisors are at least 1, as there). Past `totalSteps` it stays at `endLr`: the official lambda would rise
 * again along the cosine, which the official recipes never reach.
 */
export function cosineWithWarmup(options: CosineScheduleOptions): LRSchedule {
  const who = 'cosineWithWarmup';
  if (!options || typeof options !== 'object') throw new ConfigError(`${who}: expected options { warmupSteps, totalSteps, baseLr?, endLr? }, got ${String(options)}`);
  const { baseLr = 1e-4, endLr = 1e-5, warmupSteps, totalSteps } = options;
  checkLrs(who, baseLr, endLr);
  assertNonNegativeInt(warmupSteps, who, 'warmupSteps', ConfigError);
  assertPositiveInt(totalSteps, who, 'totalSteps', ConfigError);
  if (warmupSteps > totalSteps) throw new ConfigError(`${who}: warmupSteps (${warmupSteps}) must not exceed totalSteps (${totalSteps})`);
  return (step) => {
    check(who, step);
    if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    const ratio = Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    return endLr + (baseLr - endLr) * ratio;
  };
}

/** The same learning rate at every step (Open-MAGVIT2's `scheduler_type: "None"`). */
export function constantLr(lr: number): LRSchedule {
  assertFiniteNumber(lr, 'constantLr', 'lr', { min: 0, exclusive: true, ErrorClass: ConfigError });
  return (step) => {
    check('constantLr', step);
    return lr;
  };
}

/** Linear warm-up `baseLr·s/W` for s < W, then `baseLr` (`get_constant_schedule_with_warmup`, used for UViT). */
export function constantWithWarmup(options: { baseLr?: number; warmupSteps: number }): LRSchedule {
  const who = 'constantWithWarmup';
  if (!options || typeof options !== 'object') throw new ConfigError(`${who}: expected options { warmupSteps, baseLr? }, got ${String(options)}`);
  const { baseLr = 1e-4, warmupSteps } = options;
  checkLrs(who, baseLr);
  assertNonNegativeInt(warmupSteps, who, 'warmupSteps', ConfigError);
  return (step) => {
    check(who, step);
    return step < warmupSteps ? (baseLr * step) / Math.max(1, warmupSteps) : baseLr;
  };
}

/**
 * The cosine schedules of the official training configs (titok-maskgit reference §6), for one process.
 * The official code multiplies warm-up and total by the number of processes because accelerate steps the
 * scheduler once per process; with one process they are the numbers in the configs.
 */
export const OFFICIAL_SCHEDULES = {
  /** TiTok stage 1: 1e-4 → 1e-5, 10k warm-up, 1M steps. */
  titokStage1: { baseLr: 1e-4, endLr: 1e-5, warmupSteps: 10_000, totalSteps: 1_000_000 },
  /** TiTok stage 2: 1e-4 → 1e-5, 5k warm-up, 500k steps. */
  titokStage2: { baseLr: 1e-4, endLr: 1e-5, warmupSteps: 5_000, totalSteps: 500_000 },
  /** MaskGIT generator: 2e-4 → 1e-5, 10k warm-up, 500k steps. */
  maskgit: { baseLr: 2e-4, endLr: 1e-5, warmupSteps: 10_000, totalSteps: 500_000 },
} as const satisfies Record<string, CosineScheduleOptions>;
