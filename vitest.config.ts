import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { webgpuTestEnvironment } from './scripts/webgpu-env.mjs';

const root = import.meta.dirname;

// Tests run on the sources: every workspace package name resolves to its src/index.ts.
const alias = Object.fromEntries(
  readdirSync(join(root, 'packages'))
    .filter((dir) => existsSync(join(root, 'packages', dir, 'src', 'index.ts')))
    .map((dir) => [`@vtok/${dir}`, resolve(root, 'packages', dir, 'src', 'index.ts')]),
);

// `*.backend.test.ts` files run once per backend; every other test file runs once, on cpu.
const backendTests = ['packages/*/test/**/*.backend.test.ts', 'examples/*/test/**/*.backend.test.ts'];
const webgpu = webgpuTestEnvironment();
const backends = ['cpu', 'wasm', ...(webgpu.ok ? ['webgpu'] : [])];
if (!webgpu.ok) {
  // Stated loudly: a backend we could not test is not a backend that passed.
  console.warn(`\n[vtok] the webgpu test project is NOT run on this machine: ${webgpu.reason}\n`);
}

// Remote files are cached by the I/O layer: tests get a cache folder of their own, new each run, so
// they neither read nor fill the user's cache.
const cacheDir = process.env.VTOK_TEST_CACHE_DIR ?? mkdtempSync(join(tmpdir(), 'vtok-test-cache-'));

const project = (name: string, include: string[], exclude: string[], env: Record<string, string>) => ({
  resolve: { alias },
  test: {
    name,
    include,
    exclude: ['**/node_modules/**', ...exclude],
    setupFiles: [join(root, 'packages', 'test-utils', 'setup', 'backend.ts')],
    env: { VTOK_CACHE_DIR: cacheDir, ...env },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

export default defineConfig({
  test: {
    projects: [
      project('unit', ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'scripts/test/**/*.test.ts'], [...backendTests, '**/*.browser.test.ts'], {
        VTOK_TEST_BACKEND: 'cpu',
      }),
      ...backends.map((backend) =>
        project(backend, backendTests, [], { VTOK_TEST_BACKEND: backend, ...(backend === 'webgpu' ? webgpu.env : {}) }),
      ),
      ...(webgpu.ok && webgpu.chromium
        ? [project('chromium', ['packages/*/test/**/*.browser.test.ts', 'examples/*/test/**/*.browser.test.ts'], [], { VTOK_TEST_BACKEND: 'cpu', VTOK_CHROMIUM: webgpu.chromium })]
        : []),
    ],
  },
});
