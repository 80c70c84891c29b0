import { UnknownPluginError, ValueError } from '@vtok/core';
import { goldenCase } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import {
  createMaskSchedule,
  guidanceScaleAt,
  maskLengthAt,
  maskScheduleNames,
  registerMaskSchedule,
  resolveMaskSchedule,
} from '../src';

// A user-defined schedule with a config, typed by declaration merging as a plugin author would do.
declare module '../src/schedules' {
  interface MaskScheduleConfigs {
    'test-steep': { k: number };
  }
}

describe('masking schedules', () => {
  it('has the official ones, with their formulas', () => {
    expect(maskScheduleNames()).toEqual(expect.arrayContaining(['arccos', 'cosine', 'linear', 'square', 'root', 'pow']));
    const at = (name: string, r: number) => resolveMaskSchedule(name)(r);
    expect(at('arccos', 0.5)).toBeCloseTo(2 / 3, 15);
    expect(at('cosine', 0.5)).toBeCloseTo(Math.SQRT1_2, 15);
    expect(at('linear', 0.25)).toBe(0.75);
    expect(at('square', 0.5)).toBe(0.75);
    expect(at('root', 0.25)).toBe(0.5);
    expect(createMaskSchedule({ type: 'pow', exponent: 3 })(0.5)).toBe(0.875);
    for (const name of ['arccos', 'cosine', 'linear', 'square', 'root']) {
      expect(at(name, 0), `${name}(0)`).toBeCloseTo(1, 15);
      expect(at(name, 1), `${name}(1)`).toBeCloseTo(0, 15);
    }
  });

  it('gives the reference mask counts of the released models (reference §5.6)', () => {
    const counts = (length: number, steps: number) => {
      const arccos = resolveMaskSchedule('arccos');
      let masked = length;
      const out: number[] = [];
      for (let s = 0; s < steps; s++) {
        const n = maskLengthAt(arccos, (s + 1) / steps, length, masked);
        masked = s === steps - 1 ? 0 : n;
        out.push(masked);
      }
      return out;
    };
    expect(counts(32, 8)).toEqual([29, 26, 24, 21, 18, 14, 10, 0]);
    expect(counts(64, 8)).toEqual([58, 53, 48, 42, 36, 29, 20, 0]);
    const s128 = counts(128, 64);
    expect(s128.slice(0, 3)).toEqual([126, 125, 124]);
    expect(s128.slice(-4)).toEqual([25, 20, 14, 0]);
  });

  it('takes a user-defined schedule by name with its config, and a plain function', () => {
    registerMaskSchedule('test-steep', ({ k }) => (r) => (1 - r) ** k, { replace: true });
    expect(resolveMaskSchedule({ type: 'test-steep', k: 2 })(0.5)).toBe(0.25);
    expect(maskLengthAt(resolveMaskSchedule({ type: 'test-steep', k: 2 }), 0.5, 32, 32)).toBe(8);
    expect(resolveMaskSchedule((r) => 1 - r)(0.25)).toBe(0.75);
    expect(() => registerMaskSchedule('test-steep', () => (r) => r)).toThrow(/already registered/);
  });

  it('refuses unknown names (listing the known ones) and schedules that leave [0, 1]', () => {
    try {
      resolveMaskSchedule('zigzag');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnknownPluginError);
      expect((e as Error).message).toMatch(/unknown masking schedule "zigzag"; registered masking schedules: .*"arccos"/);
    }
    expect(() => maskLengthAt(() => 1.5, 0.5, 8, 8)).toThrow(ValueError);
    expect(() => maskLengthAt(() => Number.NaN, 0.5, 8, 8)).toThrow(/must return a fraction in \[0, 1\]; at progress 0.5 it returned NaN/);
    expect(() => createMaskSchedule({ type: 'pow', exponent: -1 })).toThrow(/positive finite exponent/);
  });
});

describe('guidance schedules', () => {
  const golden = goldenCase('maskgit_tiny').json;
  for (const [run, s] of Object.entries(golden.schedules as Record<string, any>)) {
    it(`${run}: cfg per step as the official generate() (${s.kwargs.guidance_decay})`, () => {
      const T = s.kwargs.num_sample_steps;
      s.steps.forEach((ref: any, step: number) => {
        const cfg = guidanceScaleAt(step, T, s.kwargs.guidance_decay, s.kwargs.guidance_scale, s.kwargs.guidance_scale_pow ?? 3);
        // power-cosine is float32 arithmetic in the official code, emulated bit for bit here.
        expect(cfg, `step ${step}`).toBe(ref.cfg_scale);
      });
    });
  }
  it('linear for L-32 (reference §5.6): 0, 0.5625, ..., 3.9375', () => {
    expect(Array.from({ length: 8 }, (_, s) => guidanceScaleAt(s, 8, 'linear', 4.5, 3))).toEqual([0, 0.5625, 1.125, 1.6875, 2.25, 2.8125, 3.375, 3.9375]);
  });
});
