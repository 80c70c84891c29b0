// Selects the tfjs backend named by VTOK_TEST_BACKEND before each test file runs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll } from 'vitest';
import { activateTestBackend } from './activate';

beforeAll(async () => {
  await activateTestBackend(process.env.VTOK_TEST_BACKEND ?? 'cpu');
  // tfjs-webgpu runs ops whose inputs are small on the CPU (WEBGPU_CPU_FORWARD); test tensors are
  // small, so without this the webgpu project would mostly test cpu kernels.
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (tf.getBackend() !== (process.env.VTOK_TEST_BACKEND ?? 'cpu')) {
    throw new Error(`test backend is ${tf.getBackend()}, expected ${process.env.VTOK_TEST_BACKEND}`);
  }
});
