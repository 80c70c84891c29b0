// A process killed while it writes a checkpoint never leaves one that resume would load as valid: a child
// trains with a checkpoint after every step and is SIGKILLed at points spread over a checkpoint write,
// again and again; after each kill every checkpoint folder reads back whole, and the run, resumed after
// every kill, ends bit-identical to an uninterrupted run.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, readCheckpoint } from '../src';
import { regressionData, runState, tinyRun } from './tiny-run';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'vtok-ckpt-kill-'));
const bundleDir = join(here, '..', 'node_modules', '.vtok-test');
afterAll(() => rmSync(temp, { recursive: true, force: true }));
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

const STEPS = 24;
const PADDING = 250_000; // 1 MB of float32 per copy: module, two Adam moments and the EMA ≈ 4 MB a checkpoint

describe('a process killed while it writes checkpoints', () => {
  let child: string;
  beforeAll(async () => {
    // The child runs from our sources, bundled for Node; test-utils is reduced to its seeded generator.
    child = join(bundleDir, `train-loop-${process.pid}.mjs`);
    await build({
      entryPoints: [join(here, 'children', 'train-loop.ts')],
      outfile: child,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // As core's Node build: tfjs's entry points stay external (the app's one copy); its gradient
      // registrations, an ES module Node cannot load, are bundled and register on tfjs's global engine.
      external: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
      alias: { '@vtok/core': join(root, 'packages', 'core', 'src', 'index.ts'), '@vtok/test-utils': join(root, 'packages', 'test-utils', 'src', 'random.ts') },
      logLevel: 'silent',
      plugins: [
        {
          name: 'bundle-tfjs-gradients',
          setup(b) {
            const fromCore = createRequire(join(root, 'packages', 'core', 'package.json'));
            b.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients$/ }, (args) => ({ path: fromCore.resolve(`${args.path}.js`) }));
          },
        },
      ],
    });
  });

  it('leaves only checkpoints that read back whole, at every kill point, and the resumed run equals an uninterrupted one', { timeout: 300_000 }, async () => {
    const dir = join(temp, 'run');
    const kills = 6;
    const outcomes: string[] = [];
    let finished = false;
    for (let k = 0; !finished; k++) {
      const proc = spawn(process.execPath, [child, dir, String(STEPS), String(PADDING)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      const steps: number[] = [];
      const written: number[] = [];
      let stderr = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          if (line.startsWith('step')) steps.push(Date.now());
          if (line.startsWith('checkpoint')) written.push(Date.now());
          if (line === 'finished') finished = true;
        }
      });
      proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((done) => proc.on('exit', (code) => done(code)));
      if (k >= kills) {
        // Enough kills: let it run to the end.
        expect(await exited, stderr).toBe(0);
        break;
      }
      // Measure one checkpoint write (from its step event to its checkpoint event), then kill the next
      // write at a point spread over that duration: from its first byte to its rename.
      const until = async (done: () => boolean) => {
        const start = Date.now();
        while (!done() && proc.exitCode === null && Date.now() - start < 120_000) await new Promise((r) => setTimeout(r, 1));
        expect(proc.exitCode, stderr).toBe(null);
      };
      await until(() => written.length >= 1);
      const writeMs = written[0] - steps[0];
      const stepsSeen = steps.length;
      await until(() => steps.length > stepsSeen);
      await new Promise((r) => setTimeout(r, (writeMs * k) / (kills - 1)));
      proc.kill('SIGKILL');
      await exited;
      const found = await listCheckpoints(dir);
      for (const c of found) tf.dispose(Object.values((await readCheckpoint(c.path)).tensors));
      outcomes.push(`kill ${k}: ${written.length} checkpoints written (a write takes ~${writeMs} ms), killed ${Math.round((100 * k) / (kills - 1))}% into the next; on disk steps ${found.map((c) => c.step).join(', ')}; leftovers ${readdirSync(dir).filter((n) => n.includes('.vtok-')).length}`);
    }
    console.info(outcomes.join('\n'));
    expect(outcomes.length).toBe(kills);
    const straight = tinyRun({ extraParams: PADDING });
    await straight.trainer.fit(regressionData, { steps: STEPS, progressBar: false });
    const expected = await runState(straight);
    straight.dispose();
    const last = await readCheckpoint(join(dir, `step-${String(STEPS).padStart(8, '0')}`));
    const got: Record<string, Float32Array | Int32Array> = {};
    for (const [k, t] of Object.entries(last.tensors)) got[k] = (await t.data()) as Float32Array | Int32Array;
    tf.dispose(Object.values(last.tensors));
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    for (const k of Object.keys(expected)) expect(got[k], k).toEqual(expected[k]);
    // A resume deleted the temporaries of the killed writers; only the newest two checkpoints are kept.
    expect(readdirSync(dir).sort()).toEqual(['step-00000023', 'step-00000024']);
  });
});
