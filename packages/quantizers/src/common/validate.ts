/**
 * Input checks shared by every quantizer. Shape and dtype are checked synchronously before any op runs.
 * Value checks (NaN/Inf in the latents, ids out of range) need a read-back, and `quantize()`/`lookup()` are
 * synchronous by contract, so they read synchronously only where that is cheap and possible: on the
 * CPU-resident backends ('cpu', 'wasm'). On GPU backends a synchronous read stalls the pipeline (and
 * tfjs-webgpu cannot read GPU buffers synchronously under Node at all), so there the async variants
 * below are for callers that are async anyway (a tokenizer's `encode`/`decode`). The checks themselves are
 * @vtok/core's (assertDtype, assertFiniteSync / assertFinite, assertIdsInRangeSync / assertIdsInRange); what
 * is the quantizers' own is the latent layout [..., dim] and when value checks run.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ShapeError,
  assertDtype,
  assertFinite,
  assertFiniteSync,
  assertIdsInRange,
  assertIdsInRangeSync,
  formatShape,
} from '@vtok/core';

/**
 * When value checks (finite latents, ids in range) run inside the synchronous calls:
 * 'auto' (default) only on backends whose tensors live in CPU memory ('cpu', 'wasm'), true always
 * (a synchronous GPU read: slow, and unsupported by tfjs-webgpu under Node), false never.
 */
export type ValueCheck = 'auto' | boolean;

/** Backends whose tensor data is in CPU memory, so a one-value synchronous read costs nothing extra. */
const CPU_RESIDENT_BACKENDS = new Set(['cpu', 'wasm']);

/** A config's `checkValues` option: 'auto' when left out, otherwise 'auto', true or false (ConfigError). */
export function resolveValueCheck(value: unknown, who: string): ValueCheck {
  const v = value ?? 'auto';
  if (v !== 'auto' && typeof v !== 'boolean') throw new ConfigError(`${who}: checkValues must be 'auto', true or false, got ${String(v)}`);
  return v;
}

/** Resolves a ValueCheck setting against the active backend. */
export function valueChecksRunSync(setting: ValueCheck = 'auto'): boolean {
  return setting === 'auto' ? CPU_RESIDENT_BACKENDS.has(tf.getBackend()) : setting;
}

const CODEBOOK = { sizeName: 'codebook size' };

/**
 * Latents going into a quantizer: float32, rank >= 1, last dimension `dim`, at least one vector, and
 * (when value checks run synchronously, see ValueCheck) no NaN or Inf.
 */
export function assertQuantizerInput(z: tf.Tensor, dim: number, who: string, checkValues: ValueCheck = 'auto'): void {
  assertDtype(z, 'float32', who, 'latents');
  if (z.rank < 1 || z.shape[z.rank - 1] !== dim) {
    const last = z.rank < 1 ? 'a scalar' : `last dimension ${z.shape[z.rank - 1]}`;
    throw new ShapeError(`${who}: expected latents [..., ${dim}] (last dimension = dim ${dim}), got ${last} in shape ${formatShape(z.shape)}`);
  }
  if (z.size === 0) throw new ShapeError(`${who}: latents hold no vector (shape ${formatShape(z.shape)})`);
  if (valueChecksRunSync(checkValues)) assertFiniteSync(z, who, 'latents');
}

/** The same finite check, read back asynchronously: usable on every backend. */
export async function assertFiniteAsync(z: tf.Tensor, who: string): Promise<void> {
  await assertFinite(z, who, 'latents');
}

/**
 * Code ids going into `lookup`: int32 and, when value checks run synchronously, within
 * [0, codebookSize). (On webgpu an out-of-range gather silently reads zeros.)
 */
export function assertCodeIndices(ids: tf.Tensor, codebookSize: number, who: string, checkValues: ValueCheck = 'auto'): void {
  if (valueChecksRunSync(checkValues)) assertIdsInRangeSync(ids, codebookSize, who, 'code indices', CODEBOOK);
  else assertDtype(ids, 'int32', who, 'code indices');
}

/** The same range check, read back asynchronously: usable on every backend. */
export async function assertCodeIndicesAsync(ids: tf.Tensor, codebookSize: number, who: string): Promise<void> {
  await assertIdsInRange(ids, codebookSize, who, 'code indices', CODEBOOK);
}
