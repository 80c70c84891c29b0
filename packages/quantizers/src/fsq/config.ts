/**
 * FiniteScalarQuantizer configuration, as lucidrains/vector-quantize-pytorch `FSQ(levels, dim)` with its
 * defaults (no projections, `preserve_symmetry` off, no noise dropout, one codebook).
 */
import { ConfigError } from '@vtok/core';
import { type ValueCheck, resolveValueCheck } from '../common/validate';

export interface FsqConfig {
  /** Number of levels per channel, e.g. [8, 5, 5, 5] (codebook 1000); each at least 3. */
  levels: readonly number[];
  /** Input feature dimension; must equal levels.length (the official input/output projections are not supported). */
  dim?: number;
  /** When the NaN/Inf and id-range checks run synchronously (default 'auto': on cpu and wasm). */
  checkValues?: ValueCheck;
}

/** Per-channel constants of the bounding function, computed in float32 steps as PyTorch does. */
export interface FsqChannelConstants {
  /** (L - 1)·(1 + 1e-3) / 2: the half-width of the tanh range. */
  halfL: number;
  /** 0.5 for even L, else 0: even levels sit on half-integers, shifted to integers. */
  offset: number;
  /** atanh(offset / halfL): moves the tanh so that z = 0 lands on a level. */
  shift: number;
  /** floor(L / 2): codes are level / halfWidth, in [-1, 1]. */
  halfWidth: number;
  /** Place value of the channel in the id (mixed radix, first channel least significant). */
  basis: number;
}

export interface ResolvedFsqConfig {
  readonly levels: readonly number[];
  readonly dim: number;
  readonly codebookSize: number;
  readonly channels: readonly FsqChannelConstants[];
  readonly checkValues: ValueCheck;
}

/** The official `bound` eps. */
export const FSQ_BOUND_EPS = 1e-3;
/** Largest codebook: ids below 2^24 are exact in float32, which the index arithmetic relies on. */
export const FSQ_MAX_CODEBOOK_SIZE = 2 ** 24;

const WHO = 'FiniteScalarQuantizer';
const f32 = Math.fround;

export function resolveFsqConfig(config: FsqConfig): ResolvedFsqConfig {
  if (config == null || typeof config !== 'object') throw new ConfigError(`${WHO}: expected a config object, got ${String(config)}`);
  const { levels } = config;
  if (!Array.isArray(levels) || levels.length === 0) throw new ConfigError(`${WHO}: levels must be a non-empty array of integers, got ${String(levels)}`);
  for (const l of levels) {
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 3) {
      // L = 2 needs the official `preserve_symmetry` variant (it asserts so), which is not implemented; L < 2 has no grid.
      throw new ConfigError(`${WHO}: every level must be an integer >= 3 (2 needs preserve_symmetry, not supported), got [${levels.join(', ')}]`);
    }
  }
  if (config.dim !== undefined && config.dim !== levels.length) {
    throw new ConfigError(`${WHO}: dim ${String(config.dim)} must equal levels.length ${levels.length} (input projections are not supported)`);
  }
  const codebookSize = levels.reduce((a, b) => a * b, 1);
  if (codebookSize > FSQ_MAX_CODEBOOK_SIZE) {
    throw new ConfigError(`${WHO}: codebook size ${codebookSize} (product of levels [${levels.join(', ')}]) exceeds 2^24`);
  }
  const checkValues = resolveValueCheck(config.checkValues, WHO);
  let basis = 1;
  const channels = levels.map((l) => {
    const halfL = f32(f32(f32(l - 1) * f32(1 + FSQ_BOUND_EPS)) / 2);
    const offset = l % 2 === 0 ? 0.5 : 0;
    const c = { halfL, offset, shift: f32(Math.atanh(f32(offset / halfL))), halfWidth: Math.floor(l / 2), basis };
    basis *= l;
    return c;
  });
  return { levels: Object.freeze([...levels]), dim: levels.length, codebookSize, channels: Object.freeze(channels), checkValues };
}
