// tfjs-wasm's threaded build in Node (worker_threads): it starts with the asked-for threads, computes
// what the cpu backend computes, keeps its heap views right when the shared memory grows behind
// emscripten's back, and never keeps the process alive. How the process starts (thread count,
// fallbacks, exit) is checked in child processes, one decision per process.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ConfigError } from '@vtok/core';
import { build } from 'esbuild';
import { expectClose } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasm } from '../src/index';
import { startNodeThreadedWasm } from '../src/node-threads';
import { nodeWasmFolder } from '../src/wasm';

const pkg = resolve(import.meta.dirname, '..');
const root = resolve(pkg, '..', '..');
const expectedThreads = Math.min(availableParallelism(), 8);

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** The emscripten module behind the active wasm backend (an internal of tfjs-wasm, read for checks only). */
type PoolWorker = { threadId?: number };
function emscriptenModule(): {
  PThread: { runningWorkers: PoolWorker[]; unusedWorkers: PoolWorker[] };
  wasmMemory: WebAssembly.Memory;
  HEAPU8: Uint8Array;
} {
  return (tf.backend() as unknown as { wasm: ReturnType<typeof emscriptenModule> }).wasm;
}

/** `f` on wasm and on cpu; the results must agree to `tol` relative to the largest magnitude of the cpu result. */
async function expectSameAsCpu(f: () => tf.Tensor, tol = 1e-4): Promise<void> {
  const before = tf.memory().numTensors;
  const onWasm = tf.tidy(f);
  const got = await onWasm.data();
  onWasm.dispose();
  expect(tf.memory().numTensors).toBe(before);
  await tf.setBackend('cpu');
  const onCpu = tf.tidy(f);
  const want = await onCpu.data();
  onCpu.dispose();
  await tf.setBackend('wasm');
  await expectClose(got, want, tol, 'wasm vs cpu');
}

describe('wasm threads in Node (this process)', () => {
  let info: Awaited<ReturnType<ReturnType<typeof wasm>['activate']>>;
  beforeAll(async () => {
    info = await wasm().activate();
  });

  it(`starts ${expectedThreads} thread(s) (the available cores) and says so`, () => {
    if (expectedThreads === 1) {
      expect(info.features).toContain('single-thread');
      expect(info.device).toMatch(/single thread \(1 thread asked for/);
      return;
    }
    expect(info.features).toContain(`threads:${expectedThreads}`);
    expect(info.device).toContain(`threads: ${expectedThreads} (worker_threads)`);
    const { PThread } = emscriptenModule();
    // This thread works too: the pool has threads - 1 workers, and none is left idle.
    expect(PThread.runningWorkers.length).toBe(expectedThreads - 1);
    expect(PThread.unusedWorkers.length).toBe(0);
  });

  it('computes large products and convolutions as the cpu backend does', async () => {
    const a = values(300 * 520, 1);
    const b = values(520 * 270, 2);
    await expectSameAsCpu(() => tf.matMul(tf.tensor2d(a, [300, 520]), tf.tensor2d(b, [520, 270])));
    // Transposed and batched: through the BatchMatMul wrapper's heap copies.
    await expectSameAsCpu(() => tf.matMul(tf.tensor3d(a.subarray(0, 4 * 75 * 130), [4, 75, 130]), tf.tensor3d(b.subarray(0, 4 * 90 * 130), [4, 90, 130]), false, true));
    await expectSameAsCpu(() =>
      tf.fused.matMul({ a: tf.tensor2d(a.subarray(0, 64 * 96), [64, 96]), b: tf.tensor2d(b.subarray(0, 80 * 96), [80, 96]), transposeB: true, bias: tf.tensor1d(a.subarray(0, 80)), activation: 'relu' }),
    );
    const x = values(2 * 33 * 31 * 24, 3);
    const w = values(3 * 3 * 24 * 40, 4);
    await expectSameAsCpu(() => tf.conv2d(tf.tensor4d(x, [2, 33, 31, 24]), tf.tensor4d(w, [3, 3, 24, 40]), 1, 'same'));
  });

  it('reads and writes tensors in memory grown behind emscripten (as when a worker grows it)', async () => {
    const module = emscriptenModule();
    const staleView = module.HEAPU8;
    const before = module.wasmMemory.buffer.byteLength;
    // Grown directly, not through emscripten's glue: its own views are not replaced.
    module.wasmMemory.grow(2048); // 128 MiB
    expect(module.HEAPU8.byteLength).toBe(module.wasmMemory.buffer.byteLength);
    expect(staleView.byteLength).toBe(before);
    // malloc takes the new pages without asking emscripten; the tensors land past the old end.
    const big = tf.tensor2d(values(4096 * 2048, 5), [4096, 2048]);
    const offset = (tf.backend() as unknown as { getMemoryOffset(id: object): number }).getMemoryOffset(big.dataId);
    expect(offset + 4096 * 2048 * 4).toBeGreaterThan(before);
    const first = values(8, 5);
    expect(Array.from((await big.data()).subarray(0, 8))).toEqual(Array.from(first));
    big.dispose();
    const a = values(6 * 120 * 70, 6);
    const b = values(6 * 90 * 70, 7);
    await expectSameAsCpu(() => tf.matMul(tf.tensor3d(a, [6, 120, 70]), tf.tensor3d(b, [6, 90, 70]), false, true));
  });
});

describe('the threads option', () => {
  it('must be a whole number >= 1 (a typed error names it)', () => {
    for (const threads of [0, -1, 1.5, Number.NaN]) expect(() => wasm({ threads })).toThrow(ConfigError);
    expect(() => wasm({ threads: 0 })).toThrow(/threads option must be a whole number of threads >= 1; got 0/);
  });
});

describe('a threaded start that fails', () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(join(pkg, 'node_modules', '.cache'), { recursive: true });
    dir = mkdtempSync(join(pkg, 'node_modules', '.cache', 'threads-fail-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of tfjs-wasm's threaded build whose pthread worker script is `workerScript`. */
  async function buildWithWorker(name: string, workerScript: string): Promise<{ dist: string; wasmPath: string }> {
    const real = await nodeWasmFolder();
    const root = join(dir, name);
    mkdirSync(join(root, 'dist'), { recursive: true });
    mkdirSync(join(root, 'wasm-out'), { recursive: true });
    const wasmPath = join(root, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
    copyFileSync(join(real, 'tfjs-backend-wasm-threaded-simd.wasm'), wasmPath);
    copyFileSync(join(real, '..', 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'));
    writeFileSync(join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'), `module.exports.wasmWorkerContents = ${JSON.stringify(workerScript)};`);
    return { dist: join(root, 'dist') + '/', wasmPath };
  }

  it('rejects, without crashing the process, when a worker throws as it starts', async () => {
    const { dist, wasmPath } = await buildWithWorker('throws', 'throw new Error("worker boom")');
    await expect(startNodeThreadedWasm({ threads: 2, wasmPath, tfjsWasmDist: dist })).rejects.toThrow(/a worker failed to start: worker boom/);
  });

  it('rejects when the workers never report back', async () => {
    // A worker that stays alive and answers nothing.
    const { dist, wasmPath } = await buildWithWorker('silent', 'setInterval(() => {}, 1000);');
    await expect(startNodeThreadedWasm({ threads: 2, wasmPath, tfjsWasmDist: dist, timeoutMs: 1500 })).rejects.toThrow(/did not start within 1.5 s/);
  });

  it('leaves no emscripten listener behind after failing', async () => {
    const before = process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const { dist, wasmPath } = await buildWithWorker('throws-again', 'throw new Error("again")');
    await expect(startNodeThreadedWasm({ threads: 2, wasmPath, tfjsWasmDist: dist })).rejects.toThrow();
    expect(process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection')).toBe(before);
  });
});

describe('wasm threads in Node (child processes)', () => {
  let dir: string;
  let script: string;

  beforeAll(async () => {
    // The child runs plain Node on this package's sources: bundle them (tfjs stays external and
    // resolves from this package's node_modules, where the bundle is written).
    mkdirSync(join(pkg, 'node_modules', '.cache'), { recursive: true });
    dir = mkdtempSync(join(pkg, 'node_modules', '.cache', 'threads-test-'));
    const entry = join(dir, 'child.ts');
    writeFileSync(
      entry,
      `import * as tf from '@tensorflow/tfjs-core';
      import { wasm } from ${JSON.stringify(join(pkg, 'src', 'index.ts'))};
      const listeners = () => process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
      const before = listeners();
      const threads = process.env.CHILD_THREADS ? Number(process.env.CHILD_THREADS) : undefined;
      const wasmPaths = process.env.CHILD_WASM_PATHS || undefined;
      const info = await wasm({ threads, wasmPaths }).activate();
      const a = tf.randomNormal([512, 512], 0, 1, 'float32', 1);
      const c = tf.matMul(a, a);
      const sum = (await tf.sum(c).data())[0];
      console.log(JSON.stringify({ features: info.features, device: info.device, finite: Number.isFinite(sum), listenersAdded: listeners() - before, at: Date.now() }));
      // No exit call: the process must end by itself once the work is done.
      `,
    );
    script = join(dir, 'child.mjs');
    await build({
      entryPoints: [entry],
      outfile: script,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // As core's Node build: tfjs packages external (one engine), tfjs-core's extensionless ESM gradient
      // module inlined (esbuild's `external` would take the package's subpaths too).
      plugins: [
        {
          name: 'tfjs-packages-external',
          setup(b) {
            b.onResolve({ filter: /^@tensorflow\/[^/]+$/ }, (args) => ({ path: args.path, external: true }));
          },
        },
      ],
      alias: { '@vtok/core': join(root, 'packages', 'core', 'src', 'index.ts') },
      logLevel: 'error',
    });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function child(env: Record<string, string>) {
    const started = Date.now();
    const r = spawnSync(process.execPath, [script], {
      cwd: pkg,
      env: { ...process.env, VTOK_WASM_THREADS: '', ...env },
      encoding: 'utf8',
      timeout: 90_000,
    });
    const ended = Date.now();
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    const out = `status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    expect(line, out).toBeDefined();
    const result = JSON.parse(line!) as { features: string[]; device: string; finite: boolean; listenersAdded: number; at: number };
    return { ...result, exitAfterMs: ended - result.at, totalMs: ended - started, out };
  }

  it('runs 2 threads when asked, and the process exits by itself right after the work', () => {
    const r = child({ CHILD_THREADS: '2' });
    expect(r.features, r.out).toContain('threads:2');
    expect(r.finite).toBe(true);
    // Emscripten's process-wide error listeners are taken out again.
    expect(r.listenersAdded).toBe(0);
    expect(r.exitAfterMs, r.out).toBeLessThan(5000);
  });

  it('takes the thread count from VTOK_WASM_THREADS when the option is not given', () => {
    const r = child({ VTOK_WASM_THREADS: '1' });
    expect(r.features).toContain('single-thread');
    expect(r.device).toContain(`single thread (1 thread asked for (VTOK_WASM_THREADS))`);
    // tfjs's own single-thread factory adds emscripten's listeners as well; they are taken out too.
    expect(r.listenersAdded).toBe(0);
    expect(r.exitAfterMs, r.out).toBeLessThan(5000);
  });

  it('falls back to one thread, with the reason, when the threaded build cannot start', () => {
    // A folder whose threaded binary is broken: the single-thread SIMD build must still run.
    const folder = join(dir, 'broken-threaded') + '/';
    mkdirSync(folder, { recursive: true });
    return nodeWasmFolder().then((dist) => {
      for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(dist, f), join(folder, f));
      writeFileSync(join(folder, 'tfjs-backend-wasm-threaded-simd.wasm'), 'not wasm');
      const r = child({ CHILD_THREADS: '2', CHILD_WASM_PATHS: folder });
      expect(r.features).toContain('single-thread');
      expect(r.device).toMatch(/single thread \(the threaded build did not start: .+\)/);
      expect(r.finite).toBe(true);
      expect(r.listenersAdded).toBe(0);
      expect(r.exitAfterMs, r.out).toBeLessThan(5000);
    });
  });
});
