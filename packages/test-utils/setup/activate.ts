import * as tf from '@tensorflow/tfjs-core';

/** Activates a backend for tests through the same factories users call. */
export async function activateTestBackend(name: string): Promise<void> {
  if (name === 'cpu') {
    await tf.setBackend('cpu');
    return;
  }
  if (name === 'wasm') {
    const { wasm } = await import('@vtok/backend-wasm');
    await wasm().activate();
    return;
  }
  if (name === 'webgpu') {
    const { webgpu } = await import('@vtok/backend-webgpu');
    await webgpu().activate();
    return;
  }
  throw new Error(`unknown VTOK_TEST_BACKEND "${name}" (expected cpu, wasm or webgpu)`);
}
