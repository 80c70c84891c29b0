// useBackend: by name, by list, 'auto' in order, VTOK_BACKEND, unknown names, missing packages and
// the one error that lists every reason. Backend packages are injected through importPackage.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, autoOrder, probeBackends, useBackend, type Backend, type BackendAvailability } from '../src/index';

function fake(name: string, availability: BackendAvailability = { ok: true }, activateError?: string): Backend & { activations: number } {
  const b = {
    specificationVersion: 'v1' as const,
    name,
    activations: 0,
    isAvailable: async () => availability,
    activate: async () => {
      b.activations++;
      if (activateError) throw new Error(activateError);
      return { name, tfBackend: name, device: `fake ${name} device`, features: [] };
    },
  };
  return b;
}

const factoryOf: Record<string, string> = { '@vtok/backend-cuda': 'cuda', '@vtok/backend-webgpu': 'webgpu', '@vtok/backend-wasm': 'wasm' };

/** An importPackage that serves fakes and records what was imported. */
function packages(backends: Record<string, Backend | 'missing'>) {
  const imported: string[] = [];
  const importPackage = async (pkg: string) => {
    imported.push(pkg);
    const name = factoryOf[pkg];
    const b = name ? backends[name] : undefined;
    if (!b || b === 'missing') {
      throw Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/index.js`), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return { [name]: () => b };
  };
  return { importPackage, imported };
}

const savedEnv = process.env.VTOK_BACKEND;
afterEach(async () => {
  if (savedEnv === undefined) delete process.env.VTOK_BACKEND;
  else process.env.VTOK_BACKEND = savedEnv;
  await tf.setBackend('cpu');
});

describe('useBackend', () => {
  it("by name: 'cpu' activates tfjs's cpu backend and reports it", async () => {
    const info = await useBackend('cpu', { ignoreEnv: true });
    expect(info).toMatchObject({ name: 'cpu', tfBackend: 'cpu', reasonsOthersFailed: [] });
    expect(info.device).toMatch(/logical cores.*pure JavaScript kernels/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('by name: loads the package and activates its factory', async () => {
    const webgpu = fake('webgpu');
    const { importPackage, imported } = packages({ webgpu });
    const info = await useBackend('webgpu', { importPackage, ignoreEnv: true });
    expect(info).toEqual({ name: 'webgpu', tfBackend: 'webgpu', device: 'fake webgpu device', features: [], reasonsOthersFailed: [] });
    expect(imported).toEqual(['@vtok/backend-webgpu']);
    expect(webgpu.activations).toBe(1);
  });

  it('a list: the first that activates, with the reasons of those before it (availability and activation failures)', async () => {
    const a = fake('a', { ok: false, reason: 'no adapter' });
    const b = fake('b', { ok: true }, 'device lost during init');
    const c = fake('c');
    const d = fake('d');
    const info = await useBackend([a, b, c, d]);
    expect(info.name).toBe('c');
    expect(info.reasonsOthersFailed).toEqual([
      { name: 'a', reason: 'no adapter' },
      { name: 'b', reason: 'device lost during init' },
    ]);
    expect(d.activations).toBe(0);
  });

  it('a list may mix names and backends', async () => {
    const info = await useBackend([fake('mine', { ok: false, reason: 'nope' }), 'cpu'], { ignoreEnv: true });
    expect(info.name).toBe('cpu');
    expect(info.reasonsOthersFailed).toEqual([{ name: 'mine', reason: 'nope' }]);
  });

  it("'auto' tries cuda → webgpu → wasm → cpu in that order", async () => {
    expect([...autoOrder]).toEqual(['cuda', 'webgpu', 'wasm', 'cpu']);
    const { importPackage, imported } = packages({
      cuda: fake('cuda', { ok: false, reason: 'no GPU', install: 'npm install @tensorflow/tfjs-node-gpu@4.22.0' }),
      webgpu: fake('webgpu', { ok: false, reason: 'no WebGPU adapter was found' }),
      wasm: 'missing',
    });
    const info = await useBackend('auto', { importPackage, ignoreEnv: true });
    expect(imported).toEqual(['@vtok/backend-cuda', '@vtok/backend-webgpu', '@vtok/backend-wasm']);
    expect(info.name).toBe('cpu');
    expect(info.reasonsOthersFailed.map((r) => r.name)).toEqual(['cuda', 'webgpu', 'wasm']);
    expect(info.reasonsOthersFailed[0].reason).toBe('no GPU\n  install it with: npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(info.reasonsOthersFailed[2].reason).toMatch(/the package @vtok\/backend-wasm could not be loaded .*\n  install it with: npm install @vtok\/backend-wasm/);
  });

  it("'auto' stops at the first that works and loads nothing after it", async () => {
    const { importPackage, imported } = packages({ cuda: 'missing', webgpu: fake('webgpu'), wasm: fake('wasm') });
    const info = await useBackend('auto', { importPackage, ignoreEnv: true });
    expect(info.name).toBe('webgpu');
    expect(imported).toEqual(['@vtok/backend-cuda', '@vtok/backend-webgpu']);
    expect(info.reasonsOthersFailed.map((r) => r.name)).toEqual(['cuda']);
  });

  it('VTOK_BACKEND overrides auto; ignoreEnv and explicit choices ignore it', async () => {
    process.env.VTOK_BACKEND = 'wasm';
    const wasm = fake('wasm');
    const { importPackage, imported } = packages({ cuda: fake('cuda'), webgpu: fake('webgpu'), wasm });
    expect((await useBackend('auto', { importPackage })).name).toBe('wasm');
    expect(imported).toEqual(['@vtok/backend-wasm']);
    expect((await useBackend('auto', { importPackage, ignoreEnv: true })).name).toBe('cuda');
    expect((await useBackend('webgpu', { importPackage })).name).toBe('webgpu');

    process.env.VTOK_BACKEND = ' auto ';
    expect((await useBackend('auto', { importPackage })).name).toBe('cuda');
  });

  it('VTOK_BACKEND naming a backend that cannot run fails instead of falling back', async () => {
    process.env.VTOK_BACKEND = 'webgpu';
    const { importPackage } = packages({ cuda: fake('cuda'), webgpu: fake('webgpu', { ok: false, reason: 'no WebGPU adapter was found' }), wasm: fake('wasm') });
    await expect(useBackend('auto', { importPackage })).rejects.toThrow('backend "webgpu" is not available: no WebGPU adapter was found');
  });

  it('an unknown name throws, listing the known ones', async () => {
    const error = await useBackend('tpu', { ignoreEnv: true }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toBe('backend "tpu" is not available: unknown backend name; known names: auto, cuda, webgpu, wasm, cpu');
  });

  it('a missing package throws with the install command', async () => {
    const { importPackage } = packages({ cuda: 'missing' });
    const error = await useBackend('cuda', { importPackage, ignoreEnv: true }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.backend).toBe('cuda');
    expect(error.install).toBe('npm install @vtok/backend-cuda');
    expect(error.message).toMatch(/^backend "cuda" is not available: the package @vtok\/backend-cuda could not be loaded \(Cannot find package/);
    expect(error.message).toMatch(/\n  install it with: npm install @vtok\/backend-cuda$/);
  });

  it('a package without the factory export is reported', async () => {
    await expect(useBackend('wasm', { ignoreEnv: true, importPackage: async () => ({ somethingElse: 1 }) })).rejects.toThrow(
      '@vtok/backend-wasm does not export a "wasm" factory',
    );
  });

  it('when every candidate fails: one error listing every reason', async () => {
    const { importPackage } = packages({
      cuda: 'missing',
      webgpu: fake('webgpu', { ok: false, reason: 'no WebGPU adapter was found' }),
      wasm: fake('wasm', { ok: true }, 'the .wasm files were not found'),
    });
    const error = await useBackend(['cuda', 'webgpu', 'wasm'], { importPackage, ignoreEnv: true }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message.split('\n')).toEqual([
      'backend "cuda | webgpu | wasm" is not available: no backend could be activated:',
      expect.stringMatching(/^  - cuda: the package @vtok\/backend-cuda could not be loaded/),
      '  install it with: npm install @vtok/backend-cuda',
      '  - webgpu: no WebGPU adapter was found',
      '  - wasm: the .wasm files were not found',
    ]);
  });

  it('an empty list is a configuration error', async () => {
    await expect(useBackend([])).rejects.toThrow('useBackend() was given an empty list of backends');
  });
});

describe('probeBackends', () => {
  it('says for each backend whether it could run, without activating any', async () => {
    const cudaFake = fake('cuda', { ok: false, reason: 'no GPU' });
    const { importPackage } = packages({ cuda: cudaFake, webgpu: 'missing', wasm: fake('wasm') });
    const out = await probeBackends(autoOrder, { importPackage });
    expect(out).toEqual([
      { name: 'cuda', ok: false, reason: 'no GPU', install: undefined },
      { name: 'webgpu', ok: false, reason: expect.stringMatching(/@vtok\/backend-webgpu could not be loaded/), install: 'npm install @vtok/backend-webgpu' },
      { name: 'wasm', ok: true },
      { name: 'cpu', ok: true },
    ]);
    expect(cudaFake.activations).toBe(0);
  });
});

describe('useBackend with a software-only backend (WebGPU on SwiftShader)', () => {
  const swiftshader = { ok: true as const, softwareOnly: 'only a software adapter is present (SwiftShader)' };

  it('auto and lists take it last: a working CPU backend wins, and the reason is reported', async () => {
    const webgpu = fake('webgpu', swiftshader);
    const wasm = fake('wasm');
    const { importPackage } = packages({ cuda: 'missing', webgpu, wasm });
    const info = await useBackend('auto', { importPackage, ignoreEnv: true });
    expect(info.name).toBe('wasm');
    expect(webgpu.activations).toBe(0);
    const note = info.reasonsOthersFailed.find((r) => r.name === 'webgpu');
    expect(note?.reason).toMatch(/software adapter.*slower than wasm.*select it by name/);

    const fromList = await useBackend([fake('webgpu', swiftshader), fake('wasm')], { ignoreEnv: true });
    expect(fromList.name).toBe('wasm');
  });

  it('is used when nothing else works, and when chosen by name', async () => {
    const webgpu = fake('webgpu', swiftshader);
    const info = await useBackend([webgpu, fake('wasm', { ok: false, reason: 'no wasm here' })], { ignoreEnv: true });
    expect(info.name).toBe('webgpu');
    expect(info.reasonsOthersFailed).toEqual([{ name: 'wasm', reason: 'no wasm here' }]);

    const { importPackage } = packages({ webgpu: fake('webgpu', swiftshader) });
    expect((await useBackend('webgpu', { importPackage, ignoreEnv: true })).name).toBe('webgpu');
  });
});
