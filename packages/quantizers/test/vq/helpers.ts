import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** tfjs-webgpu runs small ops on the CPU unless told not to; tests are small. */
export function forceGpuKernels(): void {
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
}

/** Max |got − ref| / max(1, max|ref|) must stay within `tol`; returns the measured error. */
export async function expectClose(got: tf.Tensor | ArrayLike<number>, ref: ArrayLike<number>, tol: number, label: string): Promise<number> {
  const data = got instanceof tf.Tensor ? await got.data() : got;
  expect(data.length, `${label}: length`).toBe(ref.length);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(data[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  expect(err / scale, `${label}: max error ${err} (scale ${scale})`).toBeLessThanOrEqual(tol);
  return err / scale;
}

/** Elementwise |got − ref| <= atol + rtol·|ref| (the golden README's rule). */
export async function expectWithinTolerance(got: tf.Tensor, ref: ArrayLike<number>, atol: number, rtol: number, label: string): Promise<void> {
  const data = await got.data();
  expect(data.length, `${label}: length`).toBe(ref.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    const excess = Math.abs(data[i] - ref[i]) - (atol + rtol * Math.abs(ref[i]));
    if (at < 0 || excess > worst) {
      worst = excess;
      at = i;
    }
  }
  expect(worst, `${label}: element ${at} is ${data[at]}, reference ${ref[at]}`).toBeLessThanOrEqual(0);
}

/** Runs `fn` (which returns tensors to dispose) and checks that no tensor is left behind. */
export async function expectNoLeak(fn: () => unknown, label: string): Promise<void> {
  const before = tf.memory().numTensors;
  const out = await fn();
  tf.dispose(out as tf.TensorContainer);
  expect(tf.memory().numTensors, `${label}: live tensors after the call`).toBe(before);
}

/** Disposes every tensor of a QuantizeResult-like object. */
export function disposeResult(r: { quantized: tf.Tensor; indices: tf.Tensor; losses: Record<string, tf.Tensor> }): void {
  tf.dispose([r.quantized, r.indices, ...Object.values(r.losses)]);
}
