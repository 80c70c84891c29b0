import { defineConfig } from 'tsup';

// An application build: one ESM file to run with node; the vtok packages and tfjs stay external.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  target: 'es2022',
  clean: true,
  sourcemap: true,
  external: [/^@tensorflow\//, /^@vtok\//],
});
