/**
 * Comparisons of computed tensors with reference values. Two rules:
 * - `expectClose`: max |got − ref| relative to the reference's scale (max |ref|), for comparisons with a
 *   float64 reference written in plain loops (the error of float32 arithmetic grows with the scale);
 * - `expectAllClose`: the golden README's elementwise rule |got − ref| <= atol + rtol·|ref|;
 * and `expectExact` for values that must match exactly (token ids, indices, ±1 codes).
 * Each checks the shape where both sides have one, fails on NaN, and names the worst element.
 * VTOK_REPORT_ERRORS=1 prints every measured error, to see how much room a tolerance leaves.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { Tolerance } from './golden';
import type { ShapedArray } from './tensors';

/** A tf tensor, shaped values (golden tensor, RawTensor, NDArray) or a flat array (no shape check). */
export type Values = tf.Tensor | ShapedArray | ArrayLike<number>;

async function read(x: Values): Promise<{ shape?: readonly number[]; data: ArrayLike<number> }> {
  if (x instanceof tf.Tensor) return { shape: x.shape, data: await x.data() };
  if ('shape' in x && 'data' in x) return x as ShapedArray;
  return { data: x as ArrayLike<number> };
}

async function both(got: Values, ref: Values, label: string) {
  const g = await read(got);
  const r = await read(ref);
  if (g.shape && r.shape) expect([...g.shape], `${label}: shape`).toEqual([...r.shape]);
  expect(g.data.length, `${label}: number of values`).toBe(r.data.length);
  return { a: g.data, b: r.data };
}

function report(label: string, value: number): void {
  if (process.env.VTOK_REPORT_ERRORS) console.log(`[err] ${value.toExponential(2)}  ${label}`);
}

/**
 * max |got − ref| / scale ≤ tol, scale = max |ref| (1 when the reference is all zeros). Returns the
 * relative error.
 */
export async function expectClose(got: Values, ref: Values, tol: number, label: string): Promise<number> {
  const { a, b } = await both(got, ref, label);
  let err = 0;
  let at = -1;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= err)) {
      err = Number.isNaN(e) ? Infinity : e;
      at = i;
    }
    scale = Math.max(scale, Math.abs(b[i]));
  }
  scale ||= 1;
  const rel = err / scale;
  report(label, rel);
  expect(
    rel,
    `${label}: max abs error ${err.toExponential(2)} at scale ${scale.toExponential(2)} (element ${at}: ${a[at]}, reference ${b[at]})`,
  ).toBeLessThanOrEqual(tol);
  return rel;
}

/**
 * |got − ref| <= atol + rtol·|ref| for every element (the golden README's rule; pass the case's
 * `tolerance`). Returns the largest absolute error.
 */
export async function expectAllClose(got: Values, ref: Values, tol: Tolerance, label: string): Promise<number> {
  const { a, b } = await both(got, ref, label);
  let worst = -Infinity;
  let at = -1;
  let maxErr = 0;
  for (let i = 0; i < b.length; i++) {
    const err = Math.abs(a[i] - b[i]);
    const excess = Number.isNaN(err) ? Infinity : err - (tol.atol + tol.rtol * Math.abs(b[i]));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
    maxErr = Math.max(maxErr, Number.isNaN(err) ? Infinity : err);
  }
  report(label, maxErr);
  expect(
    worst,
    `${label}: element ${at} is ${a[at]}, reference ${b[at]} (max abs error ${maxErr.toExponential(2)}, tolerance ${tol.atol} + ${tol.rtol}·|ref|)`,
  ).toBeLessThanOrEqual(0);
  return maxErr;
}

/**
 * Every value exactly equal (token ids, indices, ±1 codes). When the reference is integer (an int32
 * tensor, an I32 golden tensor or an Int32Array), a tensor under test must be int32 too.
 */
export async function expectExact(got: Values, ref: Values, label: string): Promise<void> {
  if (got instanceof tf.Tensor && isInteger(ref)) expect(got.dtype, `${label}: dtype`).toBe('int32');
  const { a, b } = await both(got, ref, label);
  let bad = -1;
  for (let i = 0; i < b.length && bad < 0; i++) if (a[i] !== b[i]) bad = i;
  expect(bad, `${label}: first difference at element ${bad} (${a[bad]}, reference ${b[bad]})`).toBe(-1);
}

function isInteger(x: Values): boolean {
  if (x instanceof tf.Tensor) return x.dtype === 'int32';
  if (x instanceof Int32Array) return true;
  return 'data' in x && (x as ShapedArray).data instanceof Int32Array;
}
