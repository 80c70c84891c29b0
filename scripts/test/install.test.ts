// A release as a user meets it: every published package packed with `pnpm pack`, installed with npm into
// an empty project (`npm init -y`; tfjs and the other dependencies come from the npm registry), then the
// quick start run there on the wasm backend, from ESM and from CommonJS, and every `bin` asked for --help.
// Needs built packages (dist/) and the npm registry. Prints how long packing, installing and running took.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackage, publishablePackages } from '../packages.mjs';

const MINUTES = 60_000;
const packages = publishablePackages();
const work = mkdtempSync(join(tmpdir(), 'vtok-install-'));
const app = join(work, 'app');
const seconds: Record<string, number> = {};

function run(command: string, args: string[], what: string): SpawnSyncReturns<string> {
  const start = performance.now();
  // No VTOK_* settings from the test run leak into the user's process; the I/O cache gets its own folder.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VTOK_')));
  const r = spawnSync(command, args, { cwd: app, encoding: 'utf8', env: { ...env, VTOK_CACHE_DIR: join(work, 'cache') }, timeout: 10 * MINUTES });
  seconds[what] = Math.round((performance.now() - start) / 100) / 10;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${what}: \`${command} ${args.join(' ')}\` exited ${r.status}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** The last line of a script's output, which the install-app scripts print as JSON. */
const lastJsonLine = (r: SpawnSyncReturns<string>) => JSON.parse(r.stdout.trim().split('\n').at(-1)!);

beforeAll(() => {
  const packs = join(work, 'packs');
  mkdirSync(packs);
  mkdirSync(app);
  const start = performance.now();
  const tarballs = packages.map(({ dir }) => packPackage(dir, packs));
  seconds.pack = Math.round((performance.now() - start) / 100) / 10;
  run('npm', ['init', '-y'], 'npm init');
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], 'npm install');
  for (const script of ['quickstart.mjs', 'require.cjs']) copyFileSync(join(import.meta.dirname, 'install-app', script), join(app, script));
}, 15 * MINUTES);

afterAll(() => {
  console.log(`[install test] seconds: ${JSON.stringify(seconds)}`);
  rmSync(work, { recursive: true, force: true });
});

describe('the packed packages installed with npm into an empty project', () => {
  it('install side by side, with one copy of tfjs-core', () => {
    for (const { manifest } of packages) expect(existsSync(join(app, 'node_modules', manifest.name, 'package.json')), manifest.name).toBe(true);
    const installed = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies;
    expect(Object.keys(installed).sort()).toEqual(packages.map((p) => p.manifest.name).sort());
    const ls = spawnSync('npm', ['ls', '--all', '--parseable', '@tensorflow/tfjs-core'], { cwd: app, encoding: 'utf8' });
    expect(ls.stdout.trim().split('\n')).toEqual([join(app, 'node_modules', '@tensorflow', 'tfjs-core')]);
  });

  it('run the quick start: zoo models by name on wasm, generate, encode, decode, no tensor left', () => {
    const report = lastJsonLine(run(process.execPath, ['quickstart.mjs'], 'quick start'));
    expect(report.backend).toBe('wasm');
    expect(report.images).toEqual([2, 32, 32, 3]);
    expect(report.tokens.shape[0]).toBe(2);
    expect(report.tokens.shape.slice(1).reduce((a: number, b: number) => a * b, 1)).toBe(64);
    expect(report.tokens.dtype).toBe('int32');
    expect(report.tokens.min).toBeGreaterThanOrEqual(0);
    expect(report.tokens.max).toBeLessThan(256);
    expect(report.reconstruction.shape).toEqual([2, 32, 32, 3]);
    expect(report.reconstruction.min).toBeGreaterThanOrEqual(0);
    expect(report.reconstruction.max).toBeLessThanOrEqual(1);
    expect(report.reconstruction.max - report.reconstruction.min).toBeGreaterThan(0.2); // a picture, not a flat field
    expect(report.leakedTensors).toBe(0);
  });

  it('load through require() in CommonJS, the zoo weights included', () => {
    const report = lastJsonLine(run(process.execPath, ['require.cjs'], 'require'));
    const withRequire = packages.filter((p) => JSON.stringify(p.manifest.exports ?? {}).includes('"require"')).map((p) => p.manifest.name);
    expect(Object.keys(report.loaded).sort()).toEqual(withRequire.sort());
    for (const name of withRequire) expect(report.loaded[name], name).toBeGreaterThan(0);
    expect(report.zoo.tokens.vocabSize).toBe(256);
  });

  it('answer --help from every command a package installs', () => {
    const bins = packages.flatMap(({ manifest }) => Object.keys(typeof manifest.bin === 'string' ? { [manifest.name.split('/').pop()!]: 1 } : (manifest.bin ?? {})));
    for (const bin of bins) {
      const r = run(join(app, 'node_modules', '.bin', bin), ['--help'], `${bin} --help`);
      expect(r.stdout, bin).toMatch(/usage/i);
    }
  });
});
