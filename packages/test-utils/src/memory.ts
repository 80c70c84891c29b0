/** Leak checks: public calls must leave behind exactly the tensors they return. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Every distinct tensor inside a returned value (a tensor, array, or object of them, nested). */
export function tensorsIn(value: unknown): tf.Tensor[] {
  const found = new Set<tf.Tensor>();
  const visit = (v: unknown) => {
    if (v instanceof tf.Tensor) found.add(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach(visit);
  };
  visit(value);
  return [...found];
}

/**
 * Runs `fn` (sync or async) and checks that the only new live tensors are the ones it returns; returns
 * its result for the caller to use and dispose.
 */
export async function expectOnlyResult<T>(fn: () => T | Promise<T>, label: string): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  expect(tf.memory().numTensors - before, `${label}: live tensors after the call, besides its result`).toBe(tensorsIn(out).length);
  return out;
}

/**
 * Runs `fn`, checks that it leaves only the tensors it returns, disposes them and checks that the count is
 * back where it started.
 */
export async function expectNoLeak(fn: () => unknown, label: string): Promise<void> {
  const before = tf.memory().numTensors;
  const out = await expectOnlyResult(fn, label);
  tf.dispose(tensorsIn(out));
  expect(tf.memory().numTensors, `${label}: live tensors after disposing the result`).toBe(before);
}

/** Runs `fn` and checks that it leaves exactly `expectedNew` more live tensors than before; returns its result. */
export async function expectTensorDelta<T>(fn: () => T | Promise<T>, expectedNew: number, label: string): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  expect(tf.memory().numTensors - before, `${label}: live tensors added`).toBe(expectedNew);
  return out;
}

/** Disposes every tensor inside a value (a result object, an array, nested). */
export function disposeAll(value: unknown): void {
  tf.dispose(tensorsIn(value));
}

/**
 * Runs `fn` (sync or async), which must throw or reject with an instance of `type` whose message matches
 * `message`, and must leave no new live tensor behind (a refused call frees what it made). Returns the
 * error for further checks. Make the inputs before the call: tensors `fn` creates count as left behind.
 */
export async function expectError<E extends Error>(fn: () => unknown, type: new (...args: any[]) => E, message?: RegExp | string): Promise<E> {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ${type.name}${message ? ` matching ${message}` : ''}`).toBeInstanceOf(type);
  if (message !== undefined) expect((error as Error).message).toMatch(message);
  expect(tf.memory().numTensors, `live tensors after the ${type.name}`).toBe(before);
  return error as E;
}
