/**
 * Checks for the public boundary of every package: each bad argument becomes a typed error whose message
 * names the caller (`who`), the argument (`what`), what was expected and what came, before any model work
 * starts. Model packages build their own checks from these; quantizer plugins and user models can too.
 *
 * Shape and dtype checks are synchronous. Value checks (NaN/Inf, ids out of range, pixel range) need a
 * read-back of a few scalars: the plain forms read asynchronously (fine on every backend); the `Sync`
 * forms are for synchronous contracts on backends whose data is in CPU memory (a synchronous read from
 * a GPU stalls it, and tfjs-webgpu cannot do one under Node at all).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, ValueError } from './errors';
import { formatShape } from './format';

export { formatShape };

/** An error class the number checks throw: ValueError for call arguments, ConfigError for configs. */
export type CheckErrorClass = typeof ValueError | typeof ConfigError;

const prefix = (who: string) => (who ? `${who}: ` : '');

// ---------------------------------------------------------------------------------------------------
// Numbers (options, config fields)

/** A positive integer (sizes, counts, steps). */
export function assertPositiveInt(value: unknown, who: string, what: string, ErrorClass: CheckErrorClass = ValueError): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ErrorClass(`${prefix(who)}${what} must be a positive integer, got ${String(value)}`);
  }
}

/** A non-negative integer (padding, offsets). */
export function assertNonNegativeInt(value: unknown, who: string, what: string, ErrorClass: CheckErrorClass = ValueError): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ErrorClass(`${prefix(who)}${what} must be a non-negative integer, got ${String(value)}`);
  }
}

/**
 * A finite number, optionally bounded below: `{ min: 0 }` (>= 0) or `{ min: 0, exclusive: true }` (> 0).
 * The message states the bound: "must be a finite number >= 0, got -1".
 */
export function assertFiniteNumber(
  value: unknown,
  who: string,
  what: string,
  options: { min?: number; exclusive?: boolean; ErrorClass?: CheckErrorClass } = {},
): asserts value is number {
  const { min, exclusive = false, ErrorClass = ValueError } = options;
  const inRange = min === undefined || (exclusive ? (value as number) > min : (value as number) >= min);
  if (typeof value !== 'number' || !Number.isFinite(value) || !inRange) {
    const bound = min === undefined ? '' : ` ${exclusive ? '>' : '>='} ${min}`;
    throw new ErrorClass(`${prefix(who)}${what} must be a finite number${bound}, got ${String(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Tensors: kind, dtype, shape

/** A live tf.Tensor (not another value, not disposed). */
export function assertTensor(x: unknown, who: string, what: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    const got = x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x;
    throw new ValueError(`${prefix(who)}${what} must be a tf.Tensor, got ${got}`);
  }
  if (x.isDisposed) throw new ValueError(`${prefix(who)}${what} is disposed`);
}

/**
 * The tensor's dtype. `note` qualifies what is expected ("in [0, 1]", "ids"), `hint` says how to fix it:
 * "encode: images must be float32 in [0, 1], got int32 (shape [1, 32, 32, 3]) (divide uint8 pixels by 255)".
 */
export function assertDtype(x: tf.Tensor, dtype: tf.DataType, who: string, what: string, options: { note?: string; hint?: string } = {}): void {
  if (x.dtype !== dtype) {
    const note = options.note ? ` ${options.note}` : '';
    const hint = options.hint ? ` (${options.hint})` : '';
    throw new DTypeError(`${prefix(who)}${what} must be ${dtype}${note}, got ${x.dtype} (shape ${formatShape(x.shape)})${hint}`);
  }
}

/** Options of the batch-shape checks. */
export interface BatchShapeOptions {
  /** Other accepted layouts without the batch axis, e.g. the flat `[L]` of a token grid. */
  alternatives?: readonly (readonly number[])[];
  /** Accept an empty batch (B = 0); by default at least one sample is required. */
  allowEmpty?: boolean;
}

/**
 * `x` is `[B, ...shape]`, or `[B, ...alt]` for one of `options.alternatives` (e.g. the flat `[B, L]` of a
 * token grid), with B >= 1 unless `allowEmpty`. Returns B. "generate: expected tokens [B, 4, 4] or [B, 16],
 * got [2, 5]".
 */
export function assertBatchShape(x: tf.Tensor, shape: readonly number[], who: string, what: string, options: BatchShapeOptions = {}): number {
  const layouts = [shape, ...(options.alternatives ?? [])];
  const fits = layouts.some((s) => x.rank === s.length + 1 && s.every((d, i) => x.shape[i + 1] === d));
  if (!fits) {
    const expected = layouts.map((s) => formatShape(['B', ...s])).join(' or ');
    throw new ShapeError(`${prefix(who)}expected ${what} ${expected}, got ${formatShape(x.shape)}`);
  }
  if (x.shape[0] < 1 && !options.allowEmpty) {
    throw new ShapeError(`${prefix(who)}${what} must hold at least one sample, got shape ${formatShape(x.shape)}`);
  }
  return x.shape[0];
}

// ---------------------------------------------------------------------------------------------------
// Values: one read-back of a few scalars

/** How many values are NaN or ±Infinity, and the smallest and largest of the others (0 and 0 if none). */
export interface ValueRange {
  nonFinite: number;
  min: number;
  max: number;
}

function rangeTensor(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1]);
    if (flat.dtype === 'int32') return tf.stack([tf.scalar(0, 'int32'), tf.min(flat), tf.max(flat)]);
    const finite = tf.isFinite(flat);
    const nonFinite = tf.sum(tf.cast(tf.logicalNot(finite), 'float32'));
    // Min and max over the finite values only, so a NaN does not hide an out-of-range value.
    const safe = tf.where(finite, flat, tf.zerosLike(flat));
    return tf.stack([nonFinite, tf.min(safe), tf.max(safe)]);
  });
}

const toRange = (v: ArrayLike<number>): ValueRange => ({ nonFinite: v[0], min: v[1], max: v[2] });
const EMPTY: ValueRange = { nonFinite: 0, min: 0, max: 0 };

/** The ValueRange of a float32 or int32 tensor, read back asynchronously. */
export async function readValueRange(x: tf.Tensor): Promise<ValueRange> {
  if (x.size === 0) return EMPTY;
  const t = rangeTensor(x);
  try {
    return toRange(await t.data());
  } finally {
    t.dispose();
  }
}

/** readValueRange with a synchronous read: only for CPU-resident backends (see the module note). */
export function readValueRangeSync(x: tf.Tensor): ValueRange {
  if (x.size === 0) return EMPTY;
  const t = rangeTensor(x);
  try {
    return toRange(t.dataSync());
  } finally {
    t.dispose();
  }
}

function nonFiniteError(x: tf.Tensor, r: ValueRange, who: string, what: string): ValueError {
  const n = r.nonFinite;
  return new ValueError(`${prefix(who)}${what} must be finite, got ${n} NaN or infinite value${n === 1 ? '' : 's'} in shape ${formatShape(x.shape)}`);
}

/** No NaN or Infinity in `x`. */
export async function assertFinite(x: tf.Tensor, who: string, what: string): Promise<void> {
  const r = await readValueRange(x);
  if (r.nonFinite > 0) throw nonFiniteError(x, r, who, what);
}

/** assertFinite with a synchronous read (CPU-resident backends). */
export function assertFiniteSync(x: tf.Tensor, who: string, what: string): void {
  const r = readValueRangeSync(x);
  if (r.nonFinite > 0) throw nonFiniteError(x, r, who, what);
}

/** Options of the id checks: what the size is called in the message ("vocabulary size" by default). */
export interface IdRangeOptions {
  sizeName?: string;
}

function checkIds(ids: tf.Tensor, size: number, r: ValueRange, who: string, what: string, options: IdRangeOptions): void {
  if (ids.size > 0 && (r.min < 0 || r.max >= size)) {
    throw new ValueError(
      `${prefix(who)}${what} must be in [0, ${size - 1}] (${options.sizeName ?? 'vocabulary size'} ${size}), got values from ${r.min} to ${r.max} in shape ${formatShape(ids.shape)}`,
    );
  }
}

/** int32 ids in [0, size): token ids, code indices, class labels. */
export async function assertIdsInRange(ids: tf.Tensor, size: number, who: string, what: string, options: IdRangeOptions = {}): Promise<void> {
  assertDtype(ids, 'int32', who, what);
  checkIds(ids, size, await readValueRange(ids), who, what, options);
}

/** assertIdsInRange with a synchronous read (CPU-resident backends). On webgpu an out-of-range gather silently reads zeros. */
export function assertIdsInRangeSync(ids: tf.Tensor, size: number, who: string, what: string, options: IdRangeOptions = {}): void {
  assertDtype(ids, 'int32', who, what);
  checkIds(ids, size, readValueRangeSync(ids), who, what, options);
}

// ---------------------------------------------------------------------------------------------------
// The data conventions at the API: images and token tensors

export interface ImageCheckOptions {
  /** Required [height, width]; any size when left out. */
  size?: readonly [number, number];
  /** Allowed value range; default [0, 1] (the API convention). */
  range?: readonly [number, number];
}

/**
 * Images at the API: a float32 tensor [B, H, W, 3] (channels last), finite, with values in [0, 1] (or
 * `options.range`), of `options.size` when given. An empty batch passes (nothing to check).
 */
export async function assertImages(images: unknown, who: string, options: ImageCheckOptions = {}): Promise<void> {
  const [lo, hi] = options.range ?? [0, 1];
  const unit = lo === 0 && hi === 1;
  const hint = unit ? 'divide uint8 pixels by 255' : undefined;
  assertTensor(images, who, 'images');
  assertDtype(images, 'float32', who, 'images', { note: `in [${lo}, ${hi}]`, hint });
  const [H, W] = options.size ?? ['H', 'W'];
  const layout = formatShape(['B', H, W, 3]);
  if (images.rank !== 4) {
    throw new ShapeError(`${prefix(who)}expected images of rank 4 ${layout}, got rank ${images.rank} with shape ${formatShape(images.shape)}`);
  }
  const [, h, w, c] = images.shape;
  if (c !== 3) throw new ShapeError(`${prefix(who)}expected 3 channels (RGB, channels last) in ${layout}, got ${c} in ${formatShape(images.shape)}`);
  if (options.size && (h !== H || w !== W)) {
    throw new ShapeError(`${prefix(who)}expected ${H}×${W} images ${layout}, got ${h}×${w} in ${formatShape(images.shape)} (resize and crop first)`);
  }
  if (images.size === 0) return;
  const r = await readValueRange(images);
  if (r.nonFinite > 0) throw nonFiniteError(images, r, who, 'images');
  if (r.min < lo || r.max > hi) {
    throw new ValueError(`${prefix(who)}image values must be in [${lo}, ${hi}], got values in [${r.min}, ${r.max}]${hint ? ` (${hint})` : ''}`);
  }
}

/**
 * Token tensors at the API: int32, `[B, ...space.shape]` (or one of `options.alternatives`, e.g. the flat
 * `[B, L]` of a grid), B >= 1 unless `options.allowEmpty`, every id in [0, space.vocabSize). Returns B.
 */
export async function assertTokens(
  tokens: unknown,
  space: { vocabSize: number; shape: readonly number[] },
  who: string,
  options: BatchShapeOptions = {},
): Promise<number> {
  assertTensor(tokens, who, 'tokens');
  assertDtype(tokens, 'int32', who, 'tokens', { note: 'ids' });
  const batch = assertBatchShape(tokens, space.shape, who, 'tokens', options);
  await assertIdsInRange(tokens, space.vocabSize, who, 'token ids');
  return batch;
}
