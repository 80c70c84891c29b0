import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // tfjs must stay external (one engine per process); tfjs-node-gpu is an optional peer loaded at run time.
  external: [/^@tensorflow\//, /^@vtok\//],
});
