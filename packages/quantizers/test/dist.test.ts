// The published build in plain Node (no vitest transforms): importing the package registers its quantizers
// (ESM and CJS, also both in one process), and a tree-shaking bundler keeps that registration because
// package.json declares the side effects.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = join(import.meta.dirname, '..');
// Inside node_modules so the bundle's external tfjs imports resolve to the workspace's one copy of tfjs.
const cache = join(pkg, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const scratch = mkdtempSync(join(cache, 'vtok-dist-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runNode(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

const USE_VQ = `
  const vq = createQuantizer({ type: 'vq', dim: 4, codebookSize: 8, seed: 1 });
  const r = vq.quantize(tf.ones([2, 3, 4]));
  console.log('vq', vq.constructor.name, r.indices.shape.join('x'), Object.keys(r.losses).join(','));`;

describe('built package in plain Node', () => {
  it('is built (run `pnpm build` first; the README test command does)', () => {
    expect(existsSync(join(pkg, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'index.cjs'))).toBe(true);
  });

  it("registers 'vq' through the ESM entry point", () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { createQuantizer } from '@vtok/core';
      import '@vtok/quantizers';
      await tf.setBackend('cpu');${USE_VQ}`;
    const r = runNode(['--input-type=module', '-e', script]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('vq VectorQuantizer 2x3 commitment,codebook,total');
  });

  it("registers 'vq' through require(), also with the ESM build loaded in the same process", () => {
    const script = `
      const tf = require('@tensorflow/tfjs-core');
      const { createQuantizer } = require('@vtok/core');
      require('@vtok/quantizers');
      import('@vtok/quantizers').then(async (esm) => {
        await tf.setBackend('cpu');${USE_VQ}
        console.log('esm', typeof esm.VectorQuantizer);
      });`;
    const r = runNode(['-e', script]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('vq VectorQuantizer 2x3 commitment,codebook,total');
    expect(r.out).toContain('esm function');
  });

  it('a tree-shaking bundler keeps the registration of a bare import (package.json sideEffects)', async () => {
    const out = join(scratch, 'bundle.mjs');
    await build({
      stdin: {
        contents: `import * as tf from '@tensorflow/tfjs-core';
          import { createQuantizer } from '@vtok/core';
          import '@vtok/quantizers';
          await tf.setBackend('cpu');${USE_VQ}`,
        resolveDir: pkg,
        loader: 'js',
      },
      bundle: true,
      treeShaking: true,
      format: 'esm',
      platform: 'node',
      outfile: out,
      // tfjs stays outside the bundle: tfjs-backend-cpu's own sideEffects list omits its Node entry file, so
      // bundling it for Node would drop the cpu backend (a tfjs packaging matter, not ours).
      external: ['@tensorflow/*'],
      logLevel: 'silent',
    });
    writeFileSync(join(scratch, 'package.json'), '{"type":"module"}');
    const r = runNode([out]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('vq VectorQuantizer 2x3');
  });
});
