/** Fixture loading and comparisons for the LFQ / FSQ / factorisation tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type RawTensor, readSafetensors } from '@vtok/core';
import { expect } from 'vitest';

export interface GoldenCase {
  /** case.json as written by the golden generator. */
  json: {
    config: Record<string, any>;
    tolerance: { float: { atol: number; rtol: number } };
    weights: { tensors: Record<string, unknown> };
    io: { tensors: Record<string, { shape: number[] }> };
  };
  io: Record<string, RawTensor>;
  weights: Record<string, RawTensor>;
}

export function loadCase(name: string): GoldenCase {
  const dir = join(import.meta.dirname, 'fixtures', name);
  const read = (file: string) => readSafetensors(new Uint8Array(readFileSync(join(dir, file))), { copy: true }).tensors;
  return { json: JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')), io: read('io.safetensors'), weights: read('weights.safetensors') };
}

/** A raw tensor with axis 1 moved last (channel-first NCHW / NCTHW → channels-last), as plain arrays. */
export function channelsLast(raw: RawTensor): { shape: number[]; data: Float32Array | Int32Array } {
  const [b, c, ...rest] = raw.shape;
  const inner = rest.reduce((a, x) => a * x, 1);
  const out = raw.dtype === 'int32' ? new Int32Array(raw.data.length) : new Float32Array(raw.data.length);
  for (let i = 0; i < b; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < inner; p++) out[(i * inner + p) * c + ch] = raw.data[(i * c + ch) * inner + p];
    }
  }
  return { shape: [b, ...rest, c], data: out };
}

export function toTensor(raw: { shape: number[]; data: Float32Array | Int32Array | Uint8Array }): tf.Tensor {
  return tf.tensor(raw.data, raw.shape, raw.data instanceof Int32Array ? 'int32' : 'float32');
}

/** Elementwise |got - ref| <= atol + rtol·|ref| (golden README §Tolerance), with the shape checked too. */
export async function expectGolden(
  got: tf.Tensor,
  ref: { shape: number[]; data: ArrayLike<number> },
  tol: { atol: number; rtol: number },
  label: string,
): Promise<number> {
  expect(got.shape, `${label}: shape`).toEqual(ref.shape);
  const data = await got.data();
  let worst = -Infinity;
  let at = 0;
  let maxErr = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const err = Math.abs(data[i] - ref.data[i]);
    maxErr = Math.max(maxErr, err);
    const excess = err - (tol.atol + tol.rtol * Math.abs(ref.data[i]));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  if (process.env.VTOK_REPORT_ERRORS) console.log(`[err] ${maxErr.toExponential(2)}  ${label}`);
  expect(worst, `${label}: element ${at} is ${data[at]}, reference ${ref.data[at]}`).toBeLessThanOrEqual(0);
  return maxErr;
}

/** Exact equality of int32 tensors (token ids). */
export async function expectIdsEqual(got: tf.Tensor, ref: { shape: number[]; data: ArrayLike<number> }, label: string): Promise<void> {
  expect(got.dtype, `${label}: dtype`).toBe('int32');
  expect(got.shape, `${label}: shape`).toEqual(ref.shape);
  expect(Array.from(await got.data()), label).toEqual(Array.from(ref.data));
}

/** A scalar reference as { shape: [], data }. */
export function scalarOf(raw: RawTensor): { shape: number[]; data: ArrayLike<number> } {
  return { shape: [], data: raw.data };
}

/** tfjs-webgpu runs small ops on the CPU unless told not to; these tests are small. */
export function forceGpuKernels(): void {
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
}

/** Seeded N(0,1) float64 values (mulberry32 + Box-Muller), rounded to float32 so both sides see the same input. */
export function normals(count: number, seed: number, scale = 1): Float64Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(uniform(), 1e-12);
    out[i] = Math.fround(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform()));
  }
  return out;
}

/** Runs `fn` and checks it leaves exactly the returned tensors alive, and nothing once they are disposed. */
export async function expectNoLeak(fn: () => tf.TensorContainer, label: string): Promise<void> {
  const before = tf.memory().numTensors;
  const out = fn();
  const returned: tf.Tensor[] = [];
  const collect = (c: unknown) => {
    if (c instanceof tf.Tensor) returned.push(c);
    else if (Array.isArray(c)) c.forEach(collect);
    else if (c && typeof c === 'object') Object.values(c).forEach(collect);
  };
  collect(out);
  expect(tf.memory().numTensors - before, `${label}: live tensors after the call`).toBe(returned.length);
  tf.dispose(returned);
  expect(tf.memory().numTensors, `${label}: live tensors after disposing the result`).toBe(before);
}
