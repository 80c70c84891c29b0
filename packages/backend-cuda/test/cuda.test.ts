// cuda() with a fake @tensorflow/tfjs-node-gpu: absent, broken, present without a GPU, present with one;
// and through @vtok/core's useBackend('auto'), which must move on and say why.
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, useBackend, type Backend } from '@vtok/core';
import { afterEach, describe, expect, it } from 'vitest';
import { cuda, cudaInstall } from '../src/index';

const absent = async (name: string) => {
  throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/@vtok/backend-cuda/dist/index.js`), { code: 'ERR_MODULE_NOT_FOUND' });
};

/** A stand-in for tfjs-node-gpu: like the real one, importing it registers 'tensorflow' and switches to it. */
function fakeTfjsNodeGpu(isUsingGpuDevice: boolean, isGPUPackage = true) {
  class FakeNodeBackend extends tf.KernelBackend {
    readonly isGPUPackage = isGPUPackage;
    readonly isUsingGpuDevice = isUsingGpuDevice;
    override dispose(): void {}
    override numDataIds(): number {
      return 0;
    }
  }
  const imported: string[] = [];
  return {
    imported,
    importModule: async (name: string) => {
      imported.push(name);
      if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
      tf.registerBackend('tensorflow', () => new FakeNodeBackend(), 3);
      await tf.setBackend('tensorflow');
      return {};
    },
  };
}

const failing = (name: string, reason: string): Backend => ({
  specificationVersion: 'v1',
  name,
  isAvailable: async () => ({ ok: false, reason }),
  activate: async () => {
    throw new Error('not available');
  },
});

afterEach(async () => {
  await tf.setBackend('cpu');
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
});

describe('cuda().isAvailable()', () => {
  it('package absent: says so, with the install command and the CUDA/cuDNN versions it needs', async () => {
    const a = await cuda({ importModule: absent }).isAvailable();
    expect(a.ok).toBe(false);
    if (a.ok) return;
    expect(a.install).toBe('npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(a.install).toBe(cudaInstall);
    expect(a.reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
    expect(a.reason).toMatch(/CUDA 11\.2/);
    expect(a.reason).toMatch(/cuDNN 8\.1/);
    expect(a.reason).toMatch(/libtensorflow 2\.9\.1/);
    expect(a.reason).toMatch(/onlyBuiltDependencies/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('installed without its native addon (install script skipped): says how to fix it', async () => {
    const a = await cuda({
      importModule: async () => {
        throw new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node.');
      },
    }).isAvailable();
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/native addon is missing: its install script did not run \(with pnpm 10, add "@tensorflow\/tfjs-node-gpu" to onlyBuiltDependencies/);
  });

  it('loads but TensorFlow found no GPU (CPU only): reports that, and puts the previous tfjs backend back', async () => {
    const fake = fakeTfjsNodeGpu(false);
    const plugin = cuda({ importModule: fake.importModule });
    const a = await plugin.isAvailable();
    expect(fake.imported).toEqual(['@tensorflow/tfjs-node-gpu']);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/loaded, but TensorFlow found no usable GPU and would run on the CPU.*libcudart\.so\.11\.0.*libcudnn\.so\.8/);
    expect(tf.getBackend()).toBe('cpu');
    await expect(plugin.activate()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('the CPU build (tfjs-node) is not taken for CUDA', async () => {
    const a = await cuda({ importModule: fakeTfjsNodeGpu(false, false).importModule }).isAvailable();
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/CPU build/);
  });

  it('loads with a GPU: activates the "tensorflow" backend and describes the GPU', async () => {
    const fake = fakeTfjsNodeGpu(true);
    const plugin = cuda({ importModule: fake.importModule, describeGpu: async () => 'NVIDIA H200 (143771 MiB, driver 550.54)' });
    expect(await plugin.isAvailable()).toEqual({ ok: true });
    const info = await plugin.activate();
    expect(info).toEqual({
      name: 'cuda',
      tfBackend: 'tensorflow',
      device: 'NVIDIA H200 (143771 MiB, driver 550.54) through CUDA (libtensorflow 2.9.1, @tensorflow/tfjs-node-gpu)',
      features: ['cuda', 'libtensorflow-2.9.1'],
    });
    expect(tf.getBackend()).toBe('tensorflow');
    expect(fake.imported).toEqual(['@tensorflow/tfjs-node-gpu']); // loaded once
  });
});

describe("useBackend('auto') with cuda()", () => {
  const packages = (cudaPlugin: () => Backend) => async (name: string) => {
    if (name === '@vtok/backend-cuda') return { cuda: cudaPlugin };
    if (name === '@vtok/backend-webgpu') return { webgpu: () => failing('webgpu', 'no WebGPU adapter was found') };
    if (name === '@vtok/backend-wasm') return { wasm: () => failing('wasm', 'wasm disabled for this test') };
    throw new Error(`unexpected import ${name}`);
  };

  it('tfjs-node-gpu absent: moves on, and reasonsOthersFailed carries the reason and the install command', async () => {
    const info = await useBackend('auto', { ignoreEnv: true, importPackage: packages(() => cuda({ importModule: absent })) });
    expect(info.name).toBe('cpu');
    expect(info.reasonsOthersFailed.map((r) => r.name)).toEqual(['cuda', 'webgpu', 'wasm']);
    expect(info.reasonsOthersFailed[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed.*CUDA 11\.2/);
    expect(info.reasonsOthersFailed[0].reason).toContain('install it with: npm install @tensorflow/tfjs-node-gpu@4.22.0');
  });

  it('no GPU: moves on with that reason', async () => {
    const info = await useBackend('auto', { ignoreEnv: true, importPackage: packages(() => cuda({ importModule: fakeTfjsNodeGpu(false).importModule })) });
    expect(info.name).toBe('cpu');
    expect(info.reasonsOthersFailed[0]).toEqual({ name: 'cuda', reason: expect.stringMatching(/found no usable GPU/) });
  });

  it('GPU present: auto takes cuda first', async () => {
    const info = await useBackend('auto', {
      ignoreEnv: true,
      importPackage: packages(() => cuda({ importModule: fakeTfjsNodeGpu(true).importModule, describeGpu: async () => 'fake GPU' })),
    });
    expect(info.name).toBe('cuda');
    expect(info.tfBackend).toBe('tensorflow');
    expect(info.reasonsOthersFailed).toEqual([]);
  });

  it("useBackend('cuda') alone fails with the reason and the install command", async () => {
    const error = await useBackend('cuda', { ignoreEnv: true, importPackage: packages(() => cuda({ importModule: absent })) }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.install).toBe(cudaInstall);
    expect(error.message).toMatch(/backend "cuda" is not available: @tensorflow\/tfjs-node-gpu is not installed/);
  });
});
