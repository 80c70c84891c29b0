import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, type Backend, type BackendAvailability, type BackendInfo } from '@vtok/core';
import { diagnoseVulkan } from './diagnose';
import type { GpuAdapterInfoLike, GpuAdapterLike, GpuLike } from './gpu-types';

export interface WebGPUOptions {
  /** Which adapter to ask for when there are several (laptops); default 'high-performance'. */
  powerPreference?: 'high-performance' | 'low-power';
  /** Use this adapter instead of asking for one. */
  adapter?: GpuAdapterLike;
  /** Use this GPU object instead of `navigator.gpu` (browsers) or Dawn's (Node). */
  gpu?: GpuLike;
  /** Node only: flags for the `webgpu` package's `create()`, e.g. `['backend=vulkan']`. */
  dawnFlags?: string[];
  /** Loads an optional package by name (default: dynamic import). Tests inject their own. */
  importModule?: (name: string) => Promise<any>;
}

export interface WebGPUBackendPlugin extends Backend {
  readonly name: 'webgpu';
  readonly options: WebGPUOptions;
  /**
   * Removes the tfjs 'webgpu' backend this plugin registered (freeing its buffers) and, in Node, the
   * `navigator.gpu` it installed, so that nothing keeps the process alive.
   */
  dispose(): Promise<void>;
}

type Availability = BackendAvailability;
type Resolved = { ok: true; gpu: GpuLike; adapter: GpuAdapterLike; where: string } | Extract<Availability, { ok: false }>;

const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
const defaultImport = (name: string): Promise<any> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const installWebGPUForNode = 'npm install webgpu';

/** One Dawn instance per process, shared by every webgpu() plugin. */
let dawn: Promise<GpuLike> | undefined;
let dawnInstance: GpuLike | undefined;
let installedNavigatorGpu = false;
let registeredByUs = false;

async function loadDawn(importModule: (name: string) => Promise<any>, flags: string[]): Promise<GpuLike> {
  dawn ??= (async () => {
    const mod = await importModule('webgpu');
    const api = typeof mod?.create === 'function' ? mod : mod?.default;
    if (typeof api?.create !== 'function') throw new Error('the "webgpu" package does not export create()');
    // GPUBufferUsage, GPUMapMode, ... : tfjs-webgpu uses them as globals.
    Object.assign(globalThis, api.globals ?? {});
    dawnInstance = api.create(flags) as GpuLike;
    return dawnInstance;
  })();
  try {
    return await dawn;
  } catch (error) {
    dawn = undefined;
    throw error;
  }
}

/** Sets `navigator.gpu` where it is missing (Node): tfjs-webgpu checks for it. Node >= 21 has a navigator getter. */
function installNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return;
  const descriptor = { value: gpu, configurable: true, writable: true, enumerable: true };
  try {
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', descriptor);
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } catch {
    Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(g.navigator ?? null), { gpu }), configurable: true, writable: true });
  }
  installedNavigatorGpu = true;
}

function uninstallNavigatorGpu(): void {
  if (!installedNavigatorGpu) return;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  try {
    if (g.navigator) delete g.navigator.gpu;
  } catch {
    // a navigator we could not change: leave it
  }
  installedNavigatorGpu = false;
}

async function adapterInfo(adapter: GpuAdapterLike): Promise<GpuAdapterInfoLike> {
  if (adapter.info) return adapter.info;
  if (typeof adapter.requestAdapterInfo === 'function') return adapter.requestAdapterInfo();
  return {};
}

/** The adapter in words, e.g. "google swiftshader swiftshader-device-subzero SwiftShader driver 5.0.0 (software fallback adapter)". */
export function describeAdapter(info: GpuAdapterInfoLike): string {
  const parts: string[] = [];
  for (const p of [info.vendor, info.architecture, info.device, info.description]) {
    const v = p?.trim();
    if (v && !parts.includes(v)) parts.push(v);
  }
  let text = parts.length ? parts.join(' ') : 'WebGPU adapter (it gives no description)';
  if (isSoftwareAdapter(info)) text += ' (software fallback adapter: for correctness, not speed)';
  return text;
}

/** SwiftShader, llvmpipe, lavapipe: GPUs emulated on the CPU. */
export function isSoftwareAdapter(info: GpuAdapterInfoLike): boolean {
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  return Boolean(info.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe/i.test(text);
}

const notableFeatures = ['shader-f16', 'timestamp-query', 'subgroups', 'bgra8unorm-storage'];

/**
 * WebGPU through tfjs-backend-webgpu: `navigator.gpu` in browsers; in Node, Dawn through the optional
 * `webgpu` package. Reports the adapter that runs. Read tensors with `await t.data()` / `array()`:
 * in Node, `dataSync()` on a GPU tensor cannot work (tfjs reads it back through an OffscreenCanvas).
 */
export function webgpu(options: WebGPUOptions = {}): WebGPUBackendPlugin {
  const importModule = options.importModule ?? defaultImport;

  async function resolve(): Promise<Resolved> {
    let gpu: GpuLike | undefined = options.gpu ?? (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
    let where = options.gpu ? 'injected GPU object' : isNode() ? `Node ${process.versions.node}` : 'browser WebGPU';
    if (!gpu && options.adapter) {
      // An adapter alone: tfjs-webgpu still wants a navigator.gpu to exist.
      const adapter = options.adapter;
      gpu = { requestAdapter: async () => adapter };
      where = 'injected adapter';
    }
    if (!gpu) {
      if (!isNode()) {
        return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is missing: an old browser, WebGPU disabled, or a page that is not a secure context)' };
      }
      try {
        gpu = await loadDawn(importModule, options.dawnFlags ?? []);
      } catch (error) {
        return {
          ok: false,
          reason: `Node has no WebGPU of its own (no navigator.gpu) and the optional package "webgpu" (Dawn) could not be loaded: ${errorText(error)}`,
          install: installWebGPUForNode,
        };
      }
    }
    if (gpu === dawnInstance) where = `Dawn (webgpu package) in Node ${process.versions.node}`;
    let adapter: GpuAdapterLike | null | undefined = options.adapter;
    if (!adapter && gpu === dawnInstance && process.platform === 'linux') {
      // Without the Vulkan loader Dawn has no adapter to give, and its native code prints "Couldn't load
      // Vulkan" on stderr when asked for one: do not ask; say what to install instead.
      const vulkan = await diagnoseVulkan();
      if (!vulkan.loader) return { ok: false, reason: `no WebGPU adapter was found: ${vulkan.hints.join('; ')}` };
    }
    if (!adapter) {
      try {
        adapter = await gpu!.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
      } catch (error) {
        return { ok: false, reason: `requesting a WebGPU adapter failed: ${errorText(error)}` };
      }
    }
    if (!adapter) {
      let hints = '';
      if (isNode() && process.platform === 'linux' && !options.gpu && where.startsWith('Dawn')) {
        const d = await diagnoseVulkan();
        if (d.hints.length) hints = `: ${d.hints.join('; ')}`;
      } else if (!isNode()) {
        hints = ': the browser offers none (GPU blocklisted, or WebGPU off; Chromium on Linux needs --enable-unsafe-webgpu, and --enable-features=Vulkan on some drivers)';
      }
      return { ok: false, reason: `no WebGPU adapter was found${hints}` };
    }
    return { ok: true, gpu: gpu!, adapter, where };
  }

  async function describeRunning(where: string, info: GpuAdapterInfoLike, features: string[]): Promise<Omit<BackendInfo, 'reasonsOthersFailed'>> {
    return { name: 'webgpu', tfBackend: 'webgpu', device: `${describeAdapter(info)}; ${where}`, features };
  }

  return {
    specificationVersion: 'v1',
    name: 'webgpu',
    options,
    async isAvailable() {
      const r = await resolve();
      if (!r.ok) return r;
      const info = await adapterInfo(r.adapter);
      return isSoftwareAdapter(info) ? { ok: true, softwareOnly: `only a software adapter is present (${describeAdapter(info)})` } : { ok: true };
    },
    async activate() {
      const existing = tf.engine().registry.webgpu as (tf.KernelBackend & { adapterInfo?: GpuAdapterInfoLike; device?: { features?: Iterable<string> } }) | undefined;
      if (existing) {
        // Already initialised (by an earlier activate() or by the user): reuse it.
        if (!(await tf.setBackend('webgpu'))) throw new BackendUnavailableError('webgpu', 'tfjs could not switch to its initialised webgpu backend');
        const features = existing.device?.features ? [...existing.device.features].filter((f) => notableFeatures.includes(f)) : [];
        return describeRunning(isNode() ? `Node ${process.versions.node}` : 'browser WebGPU', existing.adapterInfo ?? {}, features);
      }
      const r = await resolve();
      if (!r.ok) throw new BackendUnavailableError('webgpu', r.reason, r.install);
      const { gpu, adapter } = r;

      // tfjs-webgpu's backend checks navigator.gpu and uses the GPUBufferUsage/GPUMapMode globals.
      installNavigatorGpu(gpu);
      if (typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === 'undefined') {
        if (!isNode()) throw new BackendUnavailableError('webgpu', 'this runtime has no GPUBufferUsage global');
        try {
          await loadDawn(importModule, options.dawnFlags ?? []);
        } catch (error) {
          throw new BackendUnavailableError('webgpu', `the WebGPU globals (GPUBufferUsage, ...) are missing and the "webgpu" package could not be loaded: ${errorText(error)}`, installWebGPUForNode);
        }
      }
      // Imported only now: it registers 'webgpu' only if navigator.gpu exists when it is evaluated.
      const mod = await import('@tensorflow/tfjs-backend-webgpu');
      const info = await adapterInfo(adapter);
      const Base = mod.WebGPUBackend as unknown as new (device: unknown, info: unknown) => tf.KernelBackend;
      const Backend = isNode() && typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined' ? withAsyncReadHint(Base) : Base;
      const features = [...adapter.features].filter((f) => notableFeatures.includes(f));

      // Our own factory rather than tfjs's: it uses the chosen adapter, asks only for features the
      // adapter has, each as a string (tfjs 4.22 passes ['bgra8unorm-storage'] as a nested array).
      if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
      tf.registerBackend(
        'webgpu',
        async () => {
          const limits = adapter.limits as Record<string, number>;
          const requiredLimits: Record<string, number> = {};
          for (const k of ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup']) {
            if (typeof limits[k] === 'number') requiredLimits[k] = limits[k];
          }
          const device = await adapter.requestDevice({
            requiredFeatures: ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f)),
            requiredLimits,
          });
          return new Backend(device, info);
        },
        3,
      );
      registeredByUs = true;
      if (!(await tf.setBackend('webgpu'))) {
        throw new BackendUnavailableError('webgpu', `tfjs could not initialise its webgpu backend on ${describeAdapter(info)} (see the warning tfjs logged above)`);
      }
      await tf.ready();
      return describeRunning(r.where, info, isNode() ? [...features, 'dawn-node'] : features);
    },
    async dispose() {
      if (registeredByUs && tf.findBackendFactory('webgpu')) {
        tf.removeBackend('webgpu');
        registeredByUs = false;
      }
      uninstallNavigatorGpu();
    },
  };
}

/** In Node, tfjs-webgpu's readSync goes through OffscreenCanvas: say what to do instead of "OffscreenCanvas is not defined". */
function withAsyncReadHint(Base: new (device: unknown, info: unknown) => tf.KernelBackend): new (device: unknown, info: unknown) => tf.KernelBackend {
  return class extends Base {
    override readSync(dataId: object): tf.BackendValues {
      try {
        return super.readSync(dataId);
      } catch (error) {
        if (error instanceof ReferenceError && /OffscreenCanvas/.test(error.message)) {
          throw new Error(
            'dataSync()/arraySync() of a tensor on the GPU is not supported by tfjs-webgpu in Node (it reads back through an OffscreenCanvas); use `await tensor.data()` or `await tensor.array()`',
            { cause: error },
          );
        }
        throw error;
      }
    }
  };
}
