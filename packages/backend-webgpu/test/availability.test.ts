// Why webgpu() says it cannot run, with fakes for the GPU object and the optional `webgpu` package.
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, useBackend } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { describeAdapter, diagnoseVulkan, webgpu, type GpuAdapterLike, type GpuLike } from '../src/index';

const noAdapter: GpuLike = { requestAdapter: async () => null };
const missingPackage = async (name: string) => {
  throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/index.js`), { code: 'ERR_MODULE_NOT_FOUND' });
};

describe('webgpu().isAvailable()', () => {
  it('no adapter: says so, and activate() throws a BackendUnavailableError with the same reason', async () => {
    const plugin = webgpu({ gpu: noAdapter });
    const a = await plugin.isAvailable();
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/no WebGPU adapter was found/);
    await expect(plugin.activate()).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(plugin.activate()).rejects.toThrow(/no WebGPU adapter/);
  });

  it('requestAdapter() throwing: reports the error', async () => {
    const a = await webgpu({ gpu: { requestAdapter: async () => Promise.reject(new Error('device lost')) } }).isAvailable();
    expect(a).toEqual({ ok: false, reason: 'requesting a WebGPU adapter failed: device lost' });
  });

  it('Node without navigator.gpu and without the "webgpu" package: names the package and the install command', async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    const a = await webgpu({ importModule: missingPackage }).isAvailable();
    expect(a.ok).toBe(false);
    if (!a.ok) {
      expect(a.reason).toMatch(/optional package "webgpu" \(Dawn\) could not be loaded: Cannot find package 'webgpu'/);
      expect(a.install).toBe('npm install webgpu');
    }
  });

  it('passes the power preference to requestAdapter and accepts an adapter', async () => {
    const seen: unknown[] = [];
    const adapter = { features: new Set<string>(), limits: {}, info: { vendor: 'acme' }, requestDevice: async () => ({}) } as unknown as GpuAdapterLike;
    const gpu: GpuLike = {
      requestAdapter: async (o) => {
        seen.push(o);
        return adapter;
      },
    };
    expect(await webgpu({ gpu, powerPreference: 'low-power' }).isAvailable()).toEqual({ ok: true });
    expect(seen).toEqual([{ powerPreference: 'low-power' }]);
    expect(await webgpu({ adapter }).isAvailable()).toEqual({ ok: true });
  });

  it('through useBackend: the reason and the install command reach the error', async () => {
    const current = tf.getBackend();
    await expect(useBackend([webgpu({ importModule: missingPackage })])).rejects.toThrow(/webgpu: .*"webgpu" \(Dawn\) could not be loaded[\s\S]*npm install webgpu/);
    const info = await useBackend([webgpu({ gpu: noAdapter }), 'cpu'], { ignoreEnv: true });
    expect(info.name).toBe('cpu');
    expect(info.reasonsOthersFailed).toEqual([{ name: 'webgpu', reason: 'no WebGPU adapter was found' }]);
    await tf.setBackend(current);
  });
});

// Last in the file: the fake Dawn it loads stays cached for the process, as the real one does.
describe.runIf(process.platform === 'linux')('webgpu() in Node on Linux without the Vulkan loader', () => {
  it('does not ask Dawn for an adapter (its native code would print "Couldn\'t load Vulkan"); the reason says what to install', async () => {
    const vulkan = await diagnoseVulkan();
    expect(vulkan.loader, 'this test needs a machine without libvulkan.so.1 on the library path, as CI').toBeUndefined();
    let asked = 0;
    const fakeDawn = async () => ({ create: () => ({ requestAdapter: async () => (asked++, null) }), globals: {} });
    const a = await webgpu({ importModule: fakeDawn }).isAvailable();
    expect(asked).toBe(0);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/^no WebGPU adapter was found: the Vulkan loader libvulkan\.so\.1 is not on the library path: install it \(Debian\/Ubuntu: apt-get install libvulkan1\)/);
  });
});

describe('describeAdapter', () => {
  it('joins what the adapter says and flags software adapters', () => {
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true })).toBe(
      'google swiftshader swiftshader-device-subzero- SwiftShader driver 5.0.0 (software fallback adapter: for correctness, not speed)',
    );
    expect(describeAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' })).toBe('nvidia hopper NVIDIA H200');
    expect(describeAdapter({})).toBe('WebGPU adapter (it gives no description)');
  });
});

describe.runIf(process.platform === 'linux')('diagnoseVulkan', () => {
  it('says which VK_ICD_FILENAMES entries do not exist', async () => {
    const d = await diagnoseVulkan({ VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(d.icds).toEqual([]);
    expect(d.hints.join('\n')).toMatch(/VK_ICD_FILENAMES names files that do not exist: \/nonexistent\/icd.json/);
    expect(d.hints.join('\n')).toMatch(/no Vulkan driver \(ICD\) was found/);
  });

  it('finds a loader on LD_LIBRARY_PATH', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vtok-vk-'));
    writeFileSync(join(dir, 'libvulkan.so.1'), '');
    writeFileSync(join(dir, 'icd.json'), '{}');
    const d = await diagnoseVulkan({ LD_LIBRARY_PATH: dir, VK_ICD_FILENAMES: join(dir, 'icd.json') });
    expect(d.loader).toBe(join(dir, 'libvulkan.so.1'));
    expect(d.icds).toEqual([join(dir, 'icd.json')]);
    expect(d.hints).toEqual([]);
  });
});
