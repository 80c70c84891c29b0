// Selects the tfjs backend named by VTOK_TEST_BACKEND before each test file runs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll } from 'vitest';
import { activateTestBackend } from './activate';

beforeAll(async () => {
  await activateTestBackend(process.env.VTOK_TEST_BACKEND ?? 'cpu');
  if (tf.getBackend() !== (process.env.VTOK_TEST_BACKEND ?? 'cpu')) {
    throw new Error(`test backend is ${tf.getBackend()}, expected ${process.env.VTOK_TEST_BACKEND}`);
  }
});
