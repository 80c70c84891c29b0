/** Test helpers: the golden fixture, elementwise comparison with the golden tolerance, leak checks. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { type RawTensor, readSafetensors } from '@vtok/core';
import { expect } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

export interface GoldenCase {
  case: Record<string, any>;
  weightsBytes: Uint8Array;
  io: Record<string, RawTensor>;
}

export function loadGolden(name: string): GoldenCase {
  const dir = join(here, 'fixtures', name);
  const bytes = (file: string) => {
    const b = readFileSync(join(dir, file));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  };
  return {
    case: JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')),
    weightsBytes: bytes('weights.safetensors'),
    io: readSafetensors(bytes('io.safetensors'), { copy: true }).tensors,
  };
}

/** Elementwise |got − ref| <= atol + rtol·|ref| (the golden README's float rule); reports the worst element. */
export function expectAllClose(got: ArrayLike<number>, ref: ArrayLike<number>, tol: { atol: number; rtol: number }, label: string): void {
  expect(got.length, `${label}: length`).toBe(ref.length);
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const excess = Math.abs(got[i] - ref[i]) - (tol.atol + tol.rtol * Math.abs(ref[i]));
    if (!(excess <= worst) || Number.isNaN(got[i])) {
      worst = Number.isNaN(got[i]) ? Infinity : excess;
      at = i;
    }
  }
  if (process.env.VTOK_REPORT_ERRORS) console.log(`[err] ${label}: worst excess over tolerance ${worst.toExponential(2)}`);
  expect(worst, `${label}: element ${at} is ${got[at]}, reference ${ref[at]} (tolerance ${tol.atol} + ${tol.rtol}·|ref|)`).toBeLessThanOrEqual(0);
}

/** Runs `fn` and checks that the number of live tensors afterwards is `before + keep`. */
export async function expectTensorCount<T>(fn: () => Promise<T> | T, keep: number, label: string): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  expect(tf.memory().numTensors - before, `${label}: live tensors after the call`).toBe(keep);
  return out;
}

export function forceGpuKernels(): void {
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
}
