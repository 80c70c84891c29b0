/**
 * Input checks shared by every quantizer. Shape and dtype are checked synchronously before any op runs.
 * Value checks (NaN/Inf in the latents, ids out of range) need a read-back, and `quantize()`/`lookup()` are
 * synchronous by contract, so they read synchronously only where that is cheap and possible: on the
 * CPU-resident backends ('cpu', 'wasm'). On GPU backends a synchronous read stalls the pipeline (and
 * tfjs-webgpu cannot read GPU buffers synchronously under Node at all), so there the async variants
 * below are for callers that are async anyway (a tokenizer's `encode`/`decode`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError } from '@vtok/core';

/**
 * When value checks (finite latents, ids in range) run inside the synchronous calls:
 * 'auto' (default) only on backends whose tensors live in CPU memory ('cpu', 'wasm'), true always
 * (a synchronous GPU read: slow, and unsupported by tfjs-webgpu under Node), false never.
 */
export type ValueCheck = 'auto' | boolean;

/** Backends whose tensor data is in CPU memory, so a one-value synchronous read costs nothing extra. */
const CPU_RESIDENT_BACKENDS = new Set(['cpu', 'wasm']);

/** Resolves a ValueCheck setting against the active backend. */
export function valueChecksRunSync(setting: ValueCheck = 'auto'): boolean {
  return setting === 'auto' ? CPU_RESIDENT_BACKENDS.has(tf.getBackend()) : setting;
}

export const formatShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/**
 * Latents going into a quantizer: float32, rank >= 1, last dimension `dim`, at least one vector, and
 * (when value checks run synchronously, see ValueCheck) no NaN or Inf.
 */
export function assertQuantizerInput(z: tf.Tensor, dim: number, who: string, checkValues: ValueCheck = 'auto'): void {
  if (z.dtype !== 'float32') {
    throw new DTypeError(`${who}: latents must be float32, got ${z.dtype} (shape ${formatShape(z.shape)})`);
  }
  if (z.rank < 1 || z.shape[z.rank - 1] !== dim) {
    const last = z.rank < 1 ? 'a scalar' : `last dimension ${z.shape[z.rank - 1]}`;
    throw new ShapeError(`${who}: expected latents [..., ${dim}] (last dimension = dim ${dim}), got ${last} in shape ${formatShape(z.shape)}`);
  }
  if (z.size === 0) throw new ShapeError(`${who}: latents hold no vector (shape ${formatShape(z.shape)})`);
  if (valueChecksRunSync(checkValues)) {
    const bad = countNonFinite(z);
    const n = bad.dataSync()[0];
    bad.dispose();
    if (n > 0) throw nonFiniteError(who, z, n);
  }
}

/** The same finite check, read back asynchronously: usable on every backend. */
export async function assertFiniteAsync(z: tf.Tensor, who: string): Promise<void> {
  const bad = countNonFinite(z);
  const n = (await bad.data())[0];
  bad.dispose();
  if (n > 0) throw nonFiniteError(who, z, n);
}

/**
 * Code ids going into `lookup`: int32 and, when value checks run synchronously, within
 * [0, codebookSize). (On webgpu an out-of-range gather silently reads zeros.)
 */
export function assertCodeIndices(ids: tf.Tensor, codebookSize: number, who: string, checkValues: ValueCheck = 'auto'): void {
  if (ids.dtype !== 'int32') {
    throw new DTypeError(`${who}: code indices must be int32, got ${ids.dtype} (shape ${formatShape(ids.shape)})`);
  }
  if (ids.size > 0 && valueChecksRunSync(checkValues)) {
    const range = idRange(ids);
    const [lo, hi] = range.dataSync();
    range.dispose();
    if (lo < 0 || hi >= codebookSize) throw outOfRangeError(who, ids, codebookSize, lo, hi);
  }
}

/** The same range check, read back asynchronously: usable on every backend. */
export async function assertCodeIndicesAsync(ids: tf.Tensor, codebookSize: number, who: string): Promise<void> {
  if (ids.dtype !== 'int32') {
    throw new DTypeError(`${who}: code indices must be int32, got ${ids.dtype} (shape ${formatShape(ids.shape)})`);
  }
  if (ids.size === 0) return;
  const range = idRange(ids);
  const [lo, hi] = await range.data();
  range.dispose();
  if (lo < 0 || hi >= codebookSize) throw outOfRangeError(who, ids, codebookSize, lo, hi);
}

function countNonFinite(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(z)), 'int32')));
}

function idRange(ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.stack([tf.min(ids), tf.max(ids)]));
}

function nonFiniteError(who: string, z: tf.Tensor, n: number): ValueError {
  return new ValueError(`${who}: latents must be finite, got ${n} NaN/Inf value${n === 1 ? '' : 's'} in shape ${formatShape(z.shape)}`);
}

function outOfRangeError(who: string, ids: tf.Tensor, size: number, lo: number, hi: number): ValueError {
  return new ValueError(
    `${who}: code indices must be in [0, ${size - 1}] (codebook size ${size}), got values from ${lo} to ${hi} in shape ${formatShape(ids.shape)}`,
  );
}
