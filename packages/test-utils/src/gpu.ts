import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-webgpu runs an op on the CPU while its inputs are small and still on the CPU
 * (WEBGPU_CPU_FORWARD, default true). Test tensors are small, so without this the webgpu project
 * would mostly test cpu kernels. The shared vitest setup (setup/backend.ts) calls it before every
 * test file; call it again only after switching backends inside a test.
 */
export function forceGpuKernels(): void {
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
}
