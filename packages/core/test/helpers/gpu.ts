import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-webgpu runs ops on the CPU while their inputs are small and still on the CPU
 * (WEBGPU_CPU_FORWARD, default true). Test tensors are small, so without this the webgpu project
 * would mostly test cpu kernels. Call in beforeAll of every backend test file.
 */
export function forceGpuKernels(): void {
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
}
