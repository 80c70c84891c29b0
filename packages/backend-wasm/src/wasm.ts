import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, ConfigError, hostCpuDescription, type Backend, type BackendAvailability } from '@vtok/core';
import { fillMissingWasmKernels, type WasmKernelFill } from './fallback';
import { patchWasmBatchMatMul } from './batch-matmul';
import { patchWasmFusedMatMul } from './fused-matmul';
import { patchWasmSlice } from './slice';
import { registerWasmGroupMoments } from './group-moments';
import { registerWasmTrainingKernels } from './training-kernels';
import { processListenersNow, removeEmscriptenProcessListeners } from './process-listeners';
import { maxWasmThreads, nodeThreadsUnavailable, startNodeThreadedWasm, threadedBinary, type ThreadedWasmModule } from './node-threads';

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
  /**
   * Threads for matmul, conv and the other XNNPACK kernels, this thread included (at most 8).
   * Node: default the `VTOK_WASM_THREADS` environment variable, else the available cores; 1 runs the
   * single-thread build. Browsers: threads only on cross-origin isolated pages; default tfjs's choice.
   */
  threads?: number;
  /** Register cpu-backed kernels for those wasm lacks (needed for training). Default true. */
  fillMissingKernels?: boolean;
}

export interface WasmBackend extends Backend {
  readonly name: 'wasm';
  readonly options: WasmOptions;
}

type TfWasm = typeof import('@tensorflow/tfjs-backend-wasm');

/** How the Node process's wasm backend was started: with how many threads, or why with one. */
interface NodeThreading {
  readonly requested: number;
  /** Set when the threaded build is not used. */
  readonly singleThreadReason?: string;
}

const WASM_PRIORITY = 2; // tfjs-wasm's own priority for 'wasm'
const envThreads = 'VTOK_WASM_THREADS';

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

/** One decision per process: the tfjs engine has one 'wasm' backend. */
let nodeThreading: Promise<NodeThreading> | undefined;

function checkThreads(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`wasm: ${where} must be a whole number of threads >= 1; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The thread count asked for in Node: the option, else VTOK_WASM_THREADS, else the available cores. */
async function nodeThreadsWanted(options: WasmOptions): Promise<{ threads: number; source: string }> {
  if (options.threads != null) return { threads: options.threads, source: 'the threads option' };
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[envThreads]?.trim();
  if (env) return { threads: checkThreads(Number(env), `${envThreads} (="${env}")`), source: envThreads };
  const os = await importNode('node:os');
  const cores: number = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return { threads: Math.max(1, Math.min(cores, maxWasmThreads)), source: `${cores} available cores` };
}

/**
 * Node: starts tfjs-wasm's threaded SIMD build on worker_threads (see node-threads.ts) and makes it
 * what `tf.setBackend('wasm')` creates; or leaves tfjs's single-thread SIMD build in place and says why.
 */
async function setUpNodeThreads(tfwasm: TfWasm, options: WasmOptions, wasmFolder: string | undefined): Promise<NodeThreading> {
  const { threads, source } = await nodeThreadsWanted(options);
  // Also read by tfjs's own (single-thread) factory, where it changes nothing.
  tfwasm.setThreadsCount(threads);
  const single = (singleThreadReason: string): NodeThreading => ({ requested: threads, singleThreadReason });
  if (threads === 1) return single(`1 thread asked for (${source})`);
  const unavailable = await nodeThreadsUnavailable();
  if (unavailable) return single(unavailable);
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) return single('the threaded build needs WebAssembly SIMD, which this runtime lacks');
  const paths = options.wasmPaths;
  const wasmPath = typeof paths === 'string' ? paths + threadedBinary : paths ? paths[threadedBinary] : wasmFolder && wasmFolder + threadedBinary;
  if (!wasmPath) return single(`no path for ${threadedBinary} in the wasmPaths option`);
  let module: ThreadedWasmModule;
  try {
    module = await startNodeThreadedWasm({ threads, wasmPath, tfjsWasmDist: wasmFolder ?? (await nodeWasmFolder()) });
  } catch (error) {
    return single(`the threaded build did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  const stockFactory = tf.findBackendFactory('wasm') as ReturnType<typeof tf.findBackendFactory> | null;
  if (stockFactory) tf.removeBackend('wasm');
  tf.registerBackend('wasm', () => new tfwasm.BackendWasm(module as never), WASM_PRIORITY);
  // Should tfjs fail to build its backend on this module, its own single-thread factory comes back.
  const started = await tf.setBackend('wasm');
  if (!started) {
    module.PThread.terminateAllThreads();
    tf.removeBackend('wasm');
    if (stockFactory) tf.registerBackend('wasm', stockFactory, WASM_PRIORITY);
    return single('tfjs could not create its backend on the threaded module (see the warning tfjs logged above)');
  }
  return { requested: threads };
}

/**
 * The WebAssembly backend: the CPU default. SIMD where the runtime has it (Node and current
 * browsers); threads in Node (worker_threads) and in cross-origin isolated pages. Fills the kernels
 * tfjs-wasm lacks for training with the cpu backend's kernels (see README).
 */
export function wasm(options: WasmOptions = {}): WasmBackend {
  if (options.threads != null) checkThreads(options.threads, 'the threads option');
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
      // Kernels first: tfjs runs each kernel's setup when the backend starts.
      // The gradient kernels training needs, on wasm itself; before the cpu fill, so it does not take them.
      registerWasmTrainingKernels();
      if (options.fillMissingKernels !== false) fill = fillMissingWasmKernels();
      // Correctness, not optional: tfjs-wasm's fused matMul mishandles bias with transposed operands.
      patchWasmFusedMatMul();
      // Speed: route transposed and batched products to tfjs-wasm's fast 2D path.
      patchWasmBatchMatMul();
      // Speed: slices copy only what they hold (tfjs-wasm's copy the whole input out of the heap first).
      patchWasmSlice();
      // Speed: GroupNorm statistics in one pass over the heap (core's groupNorm uses the kernel when present).
      registerWasmGroupMoments();
      const alreadyInitialised = tf.engine().registry.wasm != null;
      if (!alreadyInitialised && nodeThreading == null) {
        const paths = options.wasmPaths ?? wasmFolder;
        if (paths != null) tfwasm.setWasmPaths(paths);
        if (isNode()) {
          // A bad VTOK_WASM_THREADS rejects (ConfigError); the next activate() may try again.
          nodeThreading = setUpNodeThreads(tfwasm, options, wasmFolder).catch((error: unknown) => {
            nodeThreading = undefined;
            throw error;
          });
        } else if (options.threads != null) {
          tfwasm.setThreadsCount(options.threads);
        }
      }
      const threading = await nodeThreading;
      const listenersBefore = processListenersNow();
      const started = await tf.setBackend('wasm');
      // tfjs's own factories (the single-thread builds) add them too.
      removeEmscriptenProcessListeners(listenersBefore);
      if (!started) {
        const where = options.wasmPaths ?? wasmFolder ?? 'next to the bundled script';
        throw new BackendUnavailableError(
          'wasm',
          `tfjs could not initialise its wasm backend; are the .wasm files served at ${typeof where === 'string' ? where : JSON.stringify(where)}? (see the warning tfjs logged above)`,
        );
      }
      await tf.ready();
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      const threadCount = tfwasm.getThreadsCount();
      const threads = describeThreads(threadCount, threading, alreadyInitialised);
      const filled = (fill?.filled.length ?? 0) + (fill?.replaced.length ?? 0);
      const features = [simd ? 'simd' : 'no-simd', threadCount > 1 ? `threads:${threadCount}` : 'single-thread'];
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

/** The threads part of `device`: how many run and, with one, why. */
function describeThreads(count: number, node: NodeThreading | undefined, startedElsewhere: boolean): string {
  if (isNode()) {
    if (!node) {
      return count > 1 ? `threads: ${count}` : 'single thread (the wasm backend was started before wasm() could start its threads)';
    }
    if (node.singleThreadReason) return `single thread (${node.singleThreadReason})`;
    const capped = count < node.requested ? ` of ${node.requested} asked for (tfjs-wasm's pool holds at most ${maxWasmThreads})` : '';
    return `threads: ${count}${capped} (worker_threads)`;
  }
  if (count > 1) return `threads: ${count}`;
  return startedElsewhere
    ? 'single thread'
    : 'single thread (the page is not cross-origin isolated, or the browser lacks wasm threads)';
}
