/**
 * Runs only the tests that need the official TiTok weights (test/official/*.official.ts), which the
 * default run leaves out. From the repository root:
 *   VTOK_TITOK_L32_DIR=/path/to/tokenizer_titok_l32_imagenet npx vitest run --config packages/titok/vitest.official.config.ts
 * VTOK_TEST_BACKEND picks the backend (default wasm).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = resolve(import.meta.dirname, '../..');
const alias = Object.fromEntries(
  readdirSync(join(root, 'packages'))
    .filter((dir) => existsSync(join(root, 'packages', dir, 'src', 'index.ts')))
    .map((dir) => [`@vtok/${dir}`, resolve(root, 'packages', dir, 'src', 'index.ts')]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    root,
    include: ['packages/titok/test/official/**/*.official.ts'],
    setupFiles: [join(root, 'packages', 'test-utils', 'setup', 'backend.ts')],
    env: { VTOK_TEST_BACKEND: process.env.VTOK_TEST_BACKEND ?? 'wasm' },
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
  },
});
