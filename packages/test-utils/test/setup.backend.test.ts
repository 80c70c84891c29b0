// The shared vitest setup (setup/backend.ts) runs before every test file: the backend is the one
// VTOK_TEST_BACKEND names, and on webgpu small ops run as GPU kernels (test files no longer force it).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe('the shared test setup', () => {
  it('activates the backend VTOK_TEST_BACKEND names, with WEBGPU_CPU_FORWARD off on webgpu', () => {
    const backend = process.env.VTOK_TEST_BACKEND ?? 'cpu';
    expect(tf.getBackend()).toBe(backend);
    // The flag exists only once tfjs-webgpu is loaded.
    if (backend === 'webgpu') expect(tf.env().getBool('WEBGPU_CPU_FORWARD')).toBe(false);
  });
});
