import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const repo = resolve(import.meta.dirname, '..', '..');

// Inside the vtok repository the @vtok packages come from their sources, as in the repository's tests:
// no build step, and edits to a package reload the page. A copy of this example elsewhere uses node_modules.
const packages = join(repo, 'packages');
const alias = existsSync(packages)
  ? Object.fromEntries(
      readdirSync(packages)
        .filter((dir) => existsSync(join(packages, dir, 'src', 'index.ts')))
        .map((dir) => [`@vtok/${dir}`, join(packages, dir, 'src', 'index.ts')]),
    )
  : {};

// Cross-origin isolation lets tfjs-wasm use threads (SharedArrayBuffer); everything the page loads is same-origin.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * @vtok/zoo loads its models from `../models/<name>/` next to its own module. While developing, Vite
 * serves that folder where it is; a build puts the zoo's code in `assets/`, so the models go to `models/`.
 */
function zooModels(): Plugin {
  const zoo = dirname(createRequire(import.meta.url).resolve('@vtok/zoo/package.json'));
  const models = join(zoo, 'models');
  return {
    name: 'vtok-zoo-models',
    generateBundle() {
      for (const name of readdirSync(models)) {
        for (const file of readdirSync(join(models, name))) {
          this.emitFile({ type: 'asset', fileName: relative(zoo, join(models, name, file)), source: readFileSync(join(models, name, file)) });
        }
      }
    },
  };
}

export default defineConfig({
  resolve: { alias, dedupe: ['@tensorflow/tfjs-core'] },
  // Pre-bundling would move the zoo's module away from its models folder.
  optimizeDeps: { exclude: ['@vtok/zoo'] },
  plugins: [zooModels()],
  server: { headers: isolation },
  preview: { headers: isolation },
  build: {
    target: 'es2022',
    // tfjs-wasm starts its threads from the text of one bundled function (Function.toString); Vite's
    // default minifier (oxc) breaks that function's text and the threaded build hangs; esbuild's does not.
    minify: 'esbuild',
  },
});
