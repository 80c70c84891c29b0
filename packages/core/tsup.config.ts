import { defineConfig, type Options } from 'tsup';

const common: Options = {
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  sourcemap: true,
  target: 'es2022',
};

export default defineConfig([
  // Browsers and bundlers: tfjs stays external, so the app's single tfjs-core copy is used, and
  // the bundler resolves tfjs-core's gradient registration module itself.
  {
    ...common,
    dts: true,
    clean: false,
    outDir: 'dist',
    external: [/^@tensorflow\//],
  },
  // Node: tfjs-core's `main` is a CJS bundle without gradients, and its ESM gradient module cannot be
  // loaded by Node (extensionless imports), so this build inlines that module. The inlined gradient
  // code runs ops through tfjs's process-global engine and registries, which the app's copy shares.
  {
    ...common,
    dts: false,
    outDir: 'dist/node',
    external: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
    noExternal: [/register_all_gradients/],
    platform: 'node',
  },
]);
