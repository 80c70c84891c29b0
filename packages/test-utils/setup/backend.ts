// The setup file of every vitest project (vitest.config.ts): selects the tfjs backend named by
// VTOK_TEST_BACKEND before each test file runs, through the same factories users call.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll } from 'vitest';
import { forceGpuKernels } from '../src/gpu';
import { activateTestBackend } from './activate';

beforeAll(async () => {
  const expected = process.env.VTOK_TEST_BACKEND ?? 'cpu';
  await activateTestBackend(expected);
  forceGpuKernels();
  if (tf.getBackend() !== expected) throw new Error(`test backend is ${tf.getBackend()}, expected ${expected}`);
});
