/**
 * tfjs-wasm's threaded SIMD build in Node, on worker_threads.
 *
 * tfjs-wasm 4.22 never uses threads in Node (its WASM_HAS_MULTITHREAD_SUPPORT flag answers false there),
 * and forcing the flag does not help: its `init()` hands emscripten the pthread worker as a `blob:` URL
 * and the main script as a `Blob`, which Node's `Worker` and the worker's `importScripts` (a file read)
 * refuse. So in Node the emscripten module is created here, from the same package files, with:
 * - the worker given as a `data:` URL (a `URL` object, which Node accepts) of a small ES module that
 *   runs tfjs's own worker script inside a CommonJS-style wrapper (it needs `require`, `__filename`);
 * - the main script given as the path of tfjs's factory file, which the worker reads and evaluates;
 * - `instantiateWasm` reporting twice the wanted thread count as "logical cores": tfjs's C++ caps the
 *   pool at half the logical cores (its hyper-threading guess), so on a 2-core machine it would
 *   otherwise never start a second thread;
 * - the pthread pool trimmed to the workers the pool will use (emscripten starts 8), and every worker
 *   unref'd, so an idle pool never keeps the process alive (emscripten refs running pthreads);
 * - emscripten's process-wide error listeners removed again (process-listeners.ts), and a failing
 *   or hanging worker turned into a rejection instead of a crash.
 * The resulting module is what tfjs's `init()` would produce; the caller wraps it in tfjs's own
 * `BackendWasm`.
 */
import { keepHeapViewsCurrent } from './heap-views';
import { processListenersNow, removeEmscriptenProcessListeners } from './process-listeners';

/** The threaded build's file names (in the package's `wasm-out/` and `dist/` folders). */
const threadedScript = 'tfjs-backend-wasm-threaded-simd.js';
const threadedWorkerScript = 'tfjs-backend-wasm-threaded-simd.worker.js';
export const threadedBinary = 'tfjs-backend-wasm-threaded-simd.wasm';

/** tfjs's C++ never makes a pool of more threads than this (`max_num_threads`). */
export const maxWasmThreads = 8;

/** The parts of a Node `Worker` emscripten's pool keeps. */
interface PoolWorker {
  on(event: 'error', listener: (e: unknown) => void): unknown;
  ref(): unknown;
  unref(): unknown;
  terminate(): unknown;
  onerror?: (e: unknown) => void;
}

interface PThreadState {
  unusedWorkers: PoolWorker[];
  runningWorkers: PoolWorker[];
  getNewWorker(): PoolWorker | undefined;
  loadWasmModuleToWorker(worker: PoolWorker, onFinishedLoading?: (w: PoolWorker) => void): void;
  terminateAllThreads(): void;
}

/** The emscripten module of tfjs-wasm's threaded build, as tfjs's BackendWasm uses it. */
export interface ThreadedWasmModule {
  PThread: PThreadState;
  wasmMemory: WebAssembly.Memory;
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
  [key: string]: unknown;
}

type StartState = 'starting' | 'started' | 'failed';
type Factory = (config: Record<string, unknown>) => Promise<ThreadedWasmModule>;
type ImportObject = { env: Record<string, unknown>; [module: string]: unknown };

export interface NodeThreadedStart {
  /** Threads tfjs's pool is started with (this thread included). */
  readonly threads: number;
  /** The `.wasm` file of the threaded build. */
  readonly wasmPath: string;
  /** `dist/` folder of the installed tfjs-backend-wasm, with a trailing separator. */
  readonly tfjsWasmDist: string;
  /** Milliseconds to wait for the workers before giving up. */
  readonly timeoutMs?: number;
}

// A variable specifier keeps bundlers from trying to resolve Node built-ins for browser builds.
const importNode = (name: string): Promise<any> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

/**
 * Why threads cannot run in this Node process, or undefined when they can. Cheap: no worker is started.
 */
export async function nodeThreadsUnavailable(): Promise<string | undefined> {
  if (typeof SharedArrayBuffer !== 'function') return 'this runtime has no SharedArrayBuffer';
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    if (!(memory.buffer instanceof SharedArrayBuffer)) return 'WebAssembly shared memory is not backed by a SharedArrayBuffer';
  } catch (error) {
    return `this runtime cannot make shared WebAssembly memory (${message(error)})`;
  }
  try {
    const { Worker } = await importNode('node:worker_threads');
    if (typeof Worker !== 'function') return 'node:worker_threads has no Worker';
  } catch (error) {
    return `node:worker_threads is unavailable (${message(error)})`;
  }
  return undefined;
}

/**
 * Starts the threaded module with `threads` threads and resolves to it once every worker has
 * loaded; rejects (never crashes the process) when it cannot, with every started worker terminated.
 */
export async function startNodeThreadedWasm(start: NodeThreadedStart): Promise<ThreadedWasmModule> {
  const { createRequire } = await importNode('node:module');
  const { dirname, join } = await importNode('node:path');
  const { readFile } = await importNode('node:fs/promises');
  const { fileURLToPath } = await importNode('node:url');

  const wasmOut = join(dirname(start.tfjsWasmDist.replace(/[\\/]$/, '')), 'wasm-out');
  const require = createRequire(join(wasmOut, 'package.json'));
  const mainScript: string = join(wasmOut, threadedScript);
  const workerScript: string = join(wasmOut, threadedWorkerScript);
  const factoryExport = require(mainScript) as Factory | { default?: Factory };
  const factory = typeof factoryExport === 'function' ? factoryExport : factoryExport.default;
  const { wasmWorkerContents } = require(workerScript) as { wasmWorkerContents?: unknown };
  if (typeof factory !== 'function' || typeof wasmWorkerContents !== 'string') {
    throw new Error(`${mainScript} or ${workerScript} is not the emscripten factory and worker tfjs-backend-wasm 4.22 ships`);
  }
  const wasmFile = start.wasmPath.startsWith('file:') ? fileURLToPath(start.wasmPath) : start.wasmPath;
  const binary: BufferSource = await readFile(wasmFile);

  const workerUrl = workerModuleUrl(wasmWorkerContents, workerScript, dirname(workerScript));
  const poolThreads = Math.min(start.threads, maxWasmThreads) - 1;

  return new Promise<ThreadedWasmModule>((resolve, reject) => {
    let state: StartState = 'starting';
    const config: Record<string, unknown> = {};
    const fail = (error: unknown) => {
      if (state !== 'starting') return;
      state = 'failed';
      clearTimeout(timer);
      try {
        (config.PThread as PThreadState | undefined)?.terminateAllThreads();
      } catch {
        // Best effort: the workers may be half started.
      }
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const timeoutMs = start.timeoutMs ?? 30_000;
    const timer = setTimeout(() => fail(new Error(`its workers did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    (timer as { unref?: () => void }).unref?.();

    Object.assign(config, {
      mainScriptUrlOrBlob: mainScript,
      locateFile: (path: string, prefix: string) => {
        if (path.endsWith('.worker.js')) return new URL(workerUrl);
        if (path.endsWith('.wasm')) return wasmFile;
        return prefix + path;
      },
      instantiateWasm: (imports: ImportObject, receiveInstance: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
        // tfjs's C++ starts min(threads, half the logical cores, 8) threads: report 2×threads cores.
        const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * start.threads };
        WebAssembly.instantiate(binary, { ...imports, env, wasi_snapshot_preview1: env }).then(({ instance, module }) => {
          if (state !== 'starting') return;
          const pthread = config.PThread as PThreadState;
          // Workers the pool will not use are stopped before they load the module.
          for (const w of pthread.unusedWorkers.splice(poolThreads)) void w.terminate();
          for (const w of pthread.unusedWorkers) neverHoldProcess(w);
          receiveInstance(instance, module);
        }, fail);
        return {};
      },
      onAbort: (what: unknown) => fail(new Error(`the module aborted: ${String(what)}`)),
    });

    const listenersBefore = processListenersNow();
    let ready: Promise<ThreadedWasmModule>;
    try {
      ready = factory(config);
    } catch (error) {
      fail(error);
      return;
    } finally {
      removeEmscriptenProcessListeners(listenersBefore);
    }
    const pthread = config.PThread as PThreadState;
    // A worker that fails before emscripten listens to it (its bootstrap) or while it loads the module
    // fails the start; emscripten's own handler (which throws) only sees errors once the pool runs.
    for (const w of pthread.unusedWorkers) w.on('error', (e) => fail(new Error(`a worker failed to start: ${message(e)}`)));
    watchLoadErrors(pthread, () => state, fail);
    // Workers emscripten starts later (none while tfjs's pool is unchanged) must not hold the process either.
    const getNewWorker = pthread.getNewWorker;
    pthread.getNewWorker = function () {
      const worker = getNewWorker.call(this);
      if (worker) neverHoldProcess(worker);
      return worker;
    };
    ready.then(
      (module) => {
        if (state !== 'starting') return;
        state = 'started';
        clearTimeout(timer);
        keepHeapViewsCurrent(module);
        module.tfjs = tfjsBindings(module);
        resolve(module);
      },
      (error) => fail(error),
    );
  });
}

/**
 * Unrefs the worker for good: emscripten refs a worker while it runs a pthread, and tfjs's pool
 * threads run for the life of the module. The pool only works while the main thread waits on it
 * synchronously, so nothing is lost when the process exits with them idle.
 */
function neverHoldProcess(worker: PoolWorker): void {
  worker.unref();
  worker.ref = () => worker;
}

/**
 * Until the module has started, a worker error rejects the start instead of reaching emscripten's
 * handler, which throws it (crashing the process).
 */
function watchLoadErrors(pthread: PThreadState, state: () => StartState, fail: (e: unknown) => void): void {
  const load = pthread.loadWasmModuleToWorker;
  pthread.loadWasmModuleToWorker = function (worker, onFinishedLoading) {
    load.call(this, worker, onFinishedLoading);
    const emscriptenOnError = worker.onerror;
    worker.onerror = (e) => {
      if (state() === 'started') emscriptenOnError?.(e);
      else fail(new Error(`a worker failed to start: ${message(e)}`));
    };
  };
}

/** The same wrappers tfjs's `init()` puts on the module (BackendWasm calls them). */
function tfjsBindings(module: ThreadedWasmModule): Record<string, (...args: number[]) => number> {
  return {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/**
 * A `data:` URL of an ES module that runs tfjs's pthread worker script as Node would run it from a
 * `.js` file: inside a CommonJS wrapper (it calls `require` and reads `__filename`).
 */
function workerModuleUrl(contents: string, filename: string, dirname: string): string {
  // The script ships inside a template literal, which turned its "\n" escapes into newlines: put them back.
  const source = contents.replace(/\n/g, '\\n');
  const module = [
    `import { createRequire } from 'node:module';`,
    `import { runInThisContext } from 'node:vm';`,
    `const filename = ${JSON.stringify(filename)};`,
    `const wrapped = runInThisContext('(function (exports, require, module, __filename, __dirname) {' + ${JSON.stringify(source)} + '\\n})', { filename });`,
    `const module = { exports: {} };`,
    `wrapped(module.exports, createRequire(filename), module, filename, ${JSON.stringify(dirname)});`,
  ].join('\n');
  return `data:text/javascript,${encodeURIComponent(module)}`;
}

function message(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}
