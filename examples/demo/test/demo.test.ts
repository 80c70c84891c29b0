// The README's `pnpm demo`: it must say which backend ran and why the others did not, run the block,
// and agree with the cpu backend. Run small (width 64) to keep the suite fast; needs the built packages.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', 'src', 'main.mjs');

function demo(env: Record<string, string>) {
  const r = spawnSync(process.execPath, [main], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, VTOK_DEMO_WIDTH: '64', ...env },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('demo', () => {
  it('picks a backend, reports why others were not taken, and matches the cpu backend', () => {
    const env: Record<string, string> = {};
    delete process.env.VTOK_BACKEND;
    const { status, out } = demo(env);
    expect(status, out).toBe(0);
    expect(out).toMatch(/^backend: (wasm|webgpu|cuda) \(tfjs "\w+"\) on .+/m);
    expect(out).toMatch(/^ {2}not cuda: .*tfjs-node-gpu/m);
    expect(out).toMatch(/transformer block: width 64, 1 heads, 257 tokens -> \[1,257,64\]/);
    expect(out).toMatch(/max \|\w+ - cpu\| = [\d.e+-]+/);
  });

  it('honours VTOK_BACKEND', () => {
    const { status, out } = demo({ VTOK_BACKEND: 'cpu' });
    expect(status, out).toBe(0);
    expect(out).toMatch(/^backend: cpu \(tfjs "cpu"\)/m);
  });

  it('fails clearly for a backend that is not installed', () => {
    const { status, out } = demo({ VTOK_BACKEND: 'cuda' });
    expect(status).not.toBe(0);
    expect(out).toMatch(/backend "cuda" is not available: .*\n\s+install it with: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
  });
});
