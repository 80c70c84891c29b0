import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, hostCpuDescription, type Backend, type BackendAvailability } from '@vtok/core';
import { fillMissingWasmKernels, type WasmKernelFill } from './fallback';
import { patchWasmBatchMatMul } from './batch-matmul';
import { patchWasmFusedMatMul } from './fused-matmul';

/** The three binaries tfjs-wasm chooses from (plain, SIMD, SIMD + threads). */
export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

export interface WasmOptions {
  /**
   * Where the `.wasm` files are: a folder prefix ending in `/` (a URL in browsers, a path in Node) or
   * a map from binary name to URL. Node finds the files of the installed `@tensorflow/tfjs-backend-wasm`
   * by itself; in browsers, serve `node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm` and pass
   * where they are (or a CDN URL of the same version).
   */
  wasmPaths?: string | Partial<Record<WasmBinaryName, string>>;
  /** Threads for the threaded build (browsers on cross-origin isolated pages only; Node runs one thread). */
  threads?: number;
  /** Register cpu-backed kernels for those wasm lacks (needed for training). Default true. */
  fillMissingKernels?: boolean;
}

export interface WasmBackend extends Backend {
  readonly name: 'wasm';
  readonly options: WasmOptions;
}

type TfWasm = typeof import('@tensorflow/tfjs-backend-wasm');

const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

// A variable specifier keeps bundlers from trying to resolve Node built-ins for browser builds.
const importNode = (name: string): Promise<any> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

/** The folder holding the installed tfjs-backend-wasm's `.wasm` files (Node only), with a trailing separator. */
export async function nodeWasmFolder(): Promise<string> {
  const { createRequire } = await importNode('node:module');
  const { dirname, join, sep } = await importNode('node:path');
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep;
}

/**
 * The WebAssembly backend: the CPU default. SIMD where the runtime has it (Node and current
 * browsers), threads only in cross-origin isolated pages. Fills the kernels tfjs-wasm lacks for
 * training with the cpu backend's kernels (see README).
 */
export function wasm(options: WasmOptions = {}): WasmBackend {
  let fill: WasmKernelFill | undefined;
  let wasmFolder: string | undefined;

  async function availability(): Promise<BackendAvailability> {
    if (typeof WebAssembly !== 'object') {
      return { ok: false, reason: 'this JavaScript runtime has no WebAssembly' };
    }
    if (isNode() && options.wasmPaths == null) {
      try {
        wasmFolder = await nodeWasmFolder();
        const { existsSync } = await importNode('node:fs');
        if (!existsSync(`${wasmFolder}tfjs-backend-wasm-simd.wasm`) && !existsSync(`${wasmFolder}tfjs-backend-wasm.wasm`)) {
          return { ok: false, reason: `the .wasm files of @tensorflow/tfjs-backend-wasm are missing from ${wasmFolder}`, install: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0' };
        }
      } catch (error) {
        return {
          ok: false,
          reason: `@tensorflow/tfjs-backend-wasm could not be found (${error instanceof Error ? error.message : String(error)})`,
          install: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
        };
      }
    }
    return { ok: true };
  }

  return {
    specificationVersion: 'v1',
    name: 'wasm',
    options,
    isAvailable: availability,
    async activate() {
      const a = await availability();
      if (!a.ok) throw new BackendUnavailableError('wasm', a.reason, a.install);
      const tfwasm: TfWasm = await import('@tensorflow/tfjs-backend-wasm');
      const alreadyInitialised = tf.engine().registry.wasm != null;
      if (!alreadyInitialised) {
        const paths = options.wasmPaths ?? wasmFolder;
        if (paths != null) tfwasm.setWasmPaths(paths);
        if (options.threads != null) tfwasm.setThreadsCount(options.threads);
      }
      if (options.fillMissingKernels !== false) fill = fillMissingWasmKernels();
      // Correctness, not optional: tfjs-wasm's fused matMul mishandles bias with transposed operands.
      patchWasmFusedMatMul();
      // Speed: route transposed and batched products to tfjs-wasm's fast 2D path.
      patchWasmBatchMatMul();
      if (!(await tf.setBackend('wasm'))) {
        const where = options.wasmPaths ?? wasmFolder ?? 'next to the bundled script';
        throw new BackendUnavailableError(
          'wasm',
          `tfjs could not initialise its wasm backend; are the .wasm files served at ${typeof where === 'string' ? where : JSON.stringify(where)}? (see the warning tfjs logged above)`,
        );
      }
      await tf.ready();
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      const threadsSupported = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
      const threadCount = threadsSupported ? tfwasm.getThreadsCount() : 1;
      const threads = isNode()
        ? 'threads: unavailable in Node (tfjs-wasm runs single-threaded there)'
        : threadsSupported
          ? `threads: ${threadCount}`
          : 'threads: unavailable (the page is not cross-origin isolated, or the browser lacks wasm threads)';
      const filled = (fill?.filled.length ?? 0) + (fill?.replaced.length ?? 0);
      const features = [simd ? 'simd' : 'no-simd', threadsSupported ? `threads:${threadCount}` : 'single-thread'];
      if (filled) features.push(`cpu-fallback-kernels:${filled}`);
      return {
        name: 'wasm',
        tfBackend: 'wasm',
        device: `${hostCpuDescription()}; WebAssembly SIMD: ${simd ? 'yes' : 'no'}; ${threads}${filled ? `; ${filled} kernels run on the pure-JS cpu fallback` : ''}`,
        features,
      };
    },
  };
}
