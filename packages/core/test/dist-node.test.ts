// The published Node build must work in plain Node (no vitest transforms): ESM and CJS entry points
// load, and gradients are registered (tfjs-core's own Node bundle registers none).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = join(import.meta.dirname, '..');

function runNode(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('built package in plain Node', () => {
  it('is built (run `pnpm build` first; the README test command does)', () => {
    expect(existsSync(join(pkg, 'dist', 'node', 'index.js'))).toBe(true);
  });

  it('computes gradients through the ESM entry point', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { gelu, Linear, SeededRandom } from '@vtok/core';
      await tf.setBackend('cpu');
      const g = await tf.grad((v) => tf.sum(gelu(v)))(tf.tensor1d([0.5])).data();
      const lin = new Linear(3, 2, { rng: new SeededRandom(0) });
      const x = tf.ones([4, 3]);
      const { grads } = tf.variableGrads(() => tf.sum(lin.forward(x)));
      console.log(JSON.stringify({ g: g[0], n: Object.keys(grads).length }));`;
    const r = runNode(['--input-type=module', '-e', script]);
    expect(r.status, r.out).toBe(0);
    const line = JSON.parse(r.out.split('\n').find((l) => l.startsWith('{')) ?? '{}');
    // d/dx x·Φ(x) at 0.5 = Φ(0.5) + 0.5·φ(0.5)
    expect(line.g).toBeCloseTo(0.6914625 + 0.5 * 0.3520653, 5);
    expect(line.n).toBe(2);
  });

  it('loads through require()', () => {
    const script = `
      const tf = require('@tensorflow/tfjs-core');
      const { silu } = require('@vtok/core');
      tf.setBackend('cpu').then(() => tf.grad((v) => tf.sum(silu(v)))(tf.tensor1d([0])).data()).then((g) => console.log('grad=' + g[0]));`;
    const r = runNode(['-e', script]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('grad=0.5');
  });
});
