/** Argument checks shared by the public calls; each throws a typed error saying what was expected and what came. */
import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, ValueError } from '@vtok/core';

export const formatShape = (shape: readonly (number | string)[]): string => `[${shape.join(', ')}]`;

export function assertPositiveInteger(value: unknown, what: string, ErrorClass: typeof ValueError | typeof ConfigError = ValueError): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ErrorClass(`${what} must be a positive integer, got ${String(value)}`);
  }
}

export function assertFiniteNumber(value: unknown, what: string, ErrorClass: typeof ValueError | typeof ConfigError = ValueError): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ErrorClass(`${what} must be a finite number, got ${String(value)}`);
}

export function assertNonNegative(value: unknown, what: string, ErrorClass: typeof ValueError | typeof ConfigError = ValueError): asserts value is number {
  assertFiniteNumber(value, what, ErrorClass);
  if (value < 0) throw new ErrorClass(`${what} must be >= 0, got ${value}`);
}

export function assertInt32(x: tf.Tensor, what: string): void {
  if (x.dtype !== 'int32') throw new DTypeError(`${what} must be int32, got ${x.dtype} (shape ${formatShape(x.shape)})`);
}

export function assertFloat32(x: tf.Tensor, what: string): void {
  if (x.dtype !== 'float32') throw new DTypeError(`${what} must be float32, got ${x.dtype} (shape ${formatShape(x.shape)})`);
}

/** `[B, ...shape]` or the flat `[B, L]`; returns B. */
export function assertTokenTensor(x: tf.Tensor, shape: readonly number[], what: string): number {
  const length = shape.reduce((a, b) => a * b, 1);
  const grid = x.rank === shape.length + 1 && shape.every((d, i) => x.shape[i + 1] === d);
  const flat = x.rank === 2 && x.shape[1] === length;
  if (!grid && !flat) {
    const expected = shape.length === 1 ? formatShape(['B', ...shape]) : `${formatShape(['B', ...shape])} or [B, ${length}]`;
    throw new ShapeError(`${what} must have shape ${expected}, got ${formatShape(x.shape)}`);
  }
  if (x.shape[0] < 1) throw new ShapeError(`${what} must hold at least one sample, got shape ${formatShape(x.shape)}`);
  return x.shape[0];
}
