/**
 * Masking schedules as plugins: γ(r) maps decoding (or training) progress r ∈ [0, 1] to the fraction of
 * tokens that stay masked. The official TiTok generators use arccos for both sampling and training; the
 * others are the ones of the same repository's `get_masking_ratio` (MaskGen), plus `pow` from the original
 * MaskGIT. Users add their own by declaration merging:
 *
 *   declare module '@vtok/maskgit' { interface MaskScheduleConfigs { steep: { k: number } } }
 *   registerMaskSchedule('steep', ({ k }) => (r) => (1 - r) ** k);
 *   model.sample({ classes, schedule: { type: 'steep', k: 3 } });
 */
import { Registry, type RegisterOptions, type TypedConfig, ValueError } from '@vtok/core';

/** γ(r): the masked fraction after progress r; γ(0) = 1 and γ(1) = 0 for a sensible schedule. */
export type MaskSchedule = (progress: number) => number;

/** Config type of every registered schedule, keyed by name. Extend it by declaration merging. */
export interface MaskScheduleConfigs {
  /** arccos(r)/(π/2): the official default of the TiTok generators. */
  arccos: Record<string, never>;
  /** cos(πr/2): the MaskGIT paper's default. */
  cosine: Record<string, never>;
  /** 1 − r. */
  linear: Record<string, never>;
  /** 1 − r². */
  square: Record<string, never>;
  /** 1 − √r. */
  root: Record<string, never>;
  /** 1 − r^exponent (original MaskGIT's `pow<e>`). */
  pow: { exponent: number };
}

export type MaskScheduleName = keyof MaskScheduleConfigs & string;
export type MaskScheduleConfig = TypedConfig<MaskScheduleConfigs>;
/** A registered name, a `{ type, ...config }` object, or a schedule function. */
export type MaskScheduleSpec = MaskScheduleName | (string & {}) | MaskScheduleConfig | MaskSchedule;

export const maskScheduleRegistry = new Registry<MaskScheduleConfigs, MaskSchedule>('masking schedule');

export function registerMaskSchedule<K extends keyof MaskScheduleConfigs & string>(
  name: K,
  factory: (config: MaskScheduleConfigs[K]) => MaskSchedule,
  options?: RegisterOptions,
): void {
  maskScheduleRegistry.register(name, factory, options);
}

export function createMaskSchedule<K extends keyof MaskScheduleConfigs & string>(config: { type: K } & MaskScheduleConfigs[K]): MaskSchedule {
  return maskScheduleRegistry.create(config);
}

/** Names of the registered schedules, sorted. */
export function maskScheduleNames(): string[] {
  return maskScheduleRegistry.names();
}

// Written as the official code computes them (double precision, same operation order).
registerMaskSchedule('arccos', () => (r) => Math.acos(r) / (Math.PI * 0.5));
registerMaskSchedule('cosine', () => (r) => Math.cos(r * Math.PI * 0.5));
registerMaskSchedule('linear', () => (r) => 1 - r);
registerMaskSchedule('square', () => (r) => 1 - r ** 2);
registerMaskSchedule('root', () => (r) => 1 - r ** 0.5);
registerMaskSchedule('pow', ({ exponent }) => {
  if (typeof exponent !== 'number' || !(exponent > 0) || !Number.isFinite(exponent)) {
    throw new ValueError(`masking schedule "pow" needs a positive finite exponent, got ${String(exponent)}`);
  }
  return (r) => 1 - r ** exponent;
});

/** The schedule a spec names; an unknown name throws UnknownPluginError listing the registered ones. */
export function resolveMaskSchedule(spec: MaskScheduleSpec): MaskSchedule {
  if (typeof spec === 'function') return spec;
  if (typeof spec === 'string') return maskScheduleRegistry.create({ type: spec } as MaskScheduleConfig);
  if (spec && typeof spec === 'object' && typeof spec.type === 'string') return maskScheduleRegistry.create(spec);
  throw new ValueError(`a masking schedule must be a name, a { type, ... } object or a function, got ${String(spec)}`);
}

/** γ(r) checked to be a number in [0, 1]: a user schedule that leaves it fails here, not deep in the sampler. */
export function evaluateMaskSchedule(schedule: MaskSchedule, progress: number, label = 'masking schedule'): number {
  const value = schedule(progress);
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 1) {
    throw new ValueError(`${label} must return a fraction in [0, 1]; at progress ${progress} it returned ${String(value)}`);
  }
  return value;
}
