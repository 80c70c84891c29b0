import type { Options } from 'tsup';

/**
 * The build every vtok package shares: ESM and CJS with declarations, tfjs and the other vtok packages
 * kept external (one tfjs engine per process, shared with the user's own tfjs imports).
 */
export function packageBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    ...overrides,
    external: [/^@tensorflow\//, /^@vtok\//, ...((overrides.external as (string | RegExp)[]) ?? [])],
  };
}

/**
 * The build every example shares: an application, one ESM file (src/main.ts) to run with node; tfjs and
 * the vtok packages stay external, plus `external` given here.
 */
export function exampleBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/main.ts'],
    format: ['esm'],
    target: 'es2022',
    clean: true,
    sourcemap: true,
    ...overrides,
    external: [/^@tensorflow\//, /^@vtok\//, ...((overrides.external as (string | RegExp)[]) ?? [])],
  };
}
