// Learning-rate schedules against hand-computed values and a transcription of the official lambdas.
import { ConfigError, ValueError } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { OFFICIAL_SCHEDULES, constantLr, constantWithWarmup, cosineWithWarmup } from '../src/schedules';

/** 1d-tokenizer's get_cosine_schedule_with_warmup lr_lambda (num_cycles 0.5) times base_lr, as LambdaLR applies it. */
function officialCosine(step: number, W: number, T: number, base: number, end: number): number {
  if (step < W) return base * (step / Math.max(1, W));
  const progress = (step - W) / Math.max(1, T - W);
  const ratio = Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
  return base * ((end + (base - end) * ratio) / base);
}

describe('LR schedules', () => {
  it('cosineWithWarmup by hand: 0 at step 0, linear to base at W, the mean of base and end half-way, end at T and after', () => {
    const s = cosineWithWarmup({ baseLr: 2e-4, endLr: 1e-5, warmupSteps: 100, totalSteps: 1100 });
    expect(s(0)).toBe(0);
    expect(s(25)).toBeCloseTo(5e-5, 15);
    expect(s(100)).toBeCloseTo(2e-4, 15);
    expect(s(600)).toBeCloseTo((2e-4 + 1e-5) / 2, 15);
    // A quarter into the decay: end + (base − end)·½(1 + cos(π/4)).
    expect(s(350)).toBeCloseTo(1e-5 + 1.9e-4 * 0.5 * (1 + Math.SQRT1_2), 15);
    expect(s(1100)).toBeCloseTo(1e-5, 15);
    expect(s(5000)).toBe(1e-5);
  });

  it('cosineWithWarmup equals the official lambda over the whole run (the official defaults: TiTok stage 1, stage 2, MaskGIT)', () => {
    for (const cfg of Object.values(OFFICIAL_SCHEDULES)) {
      const s = cosineWithWarmup(cfg);
      for (const step of [0, 1, 7, cfg.warmupSteps - 1, cfg.warmupSteps, cfg.warmupSteps + 1, 123_456, cfg.totalSteps - 1, cfg.totalSteps]) {
        expect(s(step), `step ${step}`).toBeCloseTo(officialCosine(step, cfg.warmupSteps, cfg.totalSteps, cfg.baseLr, cfg.endLr), 15);
      }
    }
    expect(OFFICIAL_SCHEDULES.titokStage1).toEqual({ baseLr: 1e-4, endLr: 1e-5, warmupSteps: 10_000, totalSteps: 1_000_000 });
    // Defaults: base 1e-4 and end 1e-5.
    const d = cosineWithWarmup({ warmupSteps: 0, totalSteps: 10 });
    expect(d(0)).toBeCloseTo(1e-4, 15);
    expect(d(10)).toBeCloseTo(1e-5, 15);
  });

  it('constantLr and constantWithWarmup', () => {
    const c = constantLr(3e-4);
    expect([0, 1, 1e6].map((step) => c(step))).toEqual([3e-4, 3e-4, 3e-4]);
    const w = constantWithWarmup({ baseLr: 4e-4, warmupSteps: 4 });
    [0, 1e-4, 2e-4, 3e-4, 4e-4, 4e-4].forEach((lr, i) => expect(w([0, 1, 2, 3, 4, 100][i])).toBeCloseTo(lr, 15));
    expect(constantWithWarmup({ warmupSteps: 0 })(0)).toBe(1e-4);
  });

  it('bad options give ConfigError, bad steps ValueError', () => {
    expect(() => cosineWithWarmup({ warmupSteps: 10, totalSteps: 5 })).toThrow(ConfigError);
    expect(() => cosineWithWarmup({ warmupSteps: 10, totalSteps: 5 })).toThrow(/warmupSteps \(10\) must not exceed totalSteps \(5\)/);
    expect(() => cosineWithWarmup({ warmupSteps: 1.5, totalSteps: 5 })).toThrow(/warmupSteps must be a non-negative integer, got 1.5/);
    expect(() => cosineWithWarmup({ baseLr: 0, warmupSteps: 1, totalSteps: 5 })).toThrow(/baseLr must be a finite number > 0, got 0/);
    expect(() => cosineWithWarmup(undefined as never)).toThrow(ConfigError);
    expect(() => constantLr(-1)).toThrow(ConfigError);
    expect(() => constantWithWarmup({ warmupSteps: -1 })).toThrow(ConfigError);
    const s = cosineWithWarmup({ warmupSteps: 1, totalSteps: 5 });
    expect(() => s(-1)).toThrow(ValueError);
    expect(() => s(0.5)).toThrow(/step must be a non-negative integer, got 0.5/);
  });
});
