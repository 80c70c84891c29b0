/**
 * Registers 'fsq' with core's quantizer registry when the package is imported, and types its config by
 * declaration merging, so `createQuantizer({ type: 'fsq', levels: [8, 5, 5, 5] })` type-checks.
 */
import { quantizerRegistry, registerQuantizer } from '@vtok/core';
import type { FsqConfig } from './config';
import { FiniteScalarQuantizer } from './finite-scalar-quantizer';

declare module '@vtok/core' {
  interface QuantizerConfigs {
    fsq: FsqConfig;
  }
}

/**
 * Registers 'fsq' unless the name is taken. Idempotent: the package may be evaluated twice against one
 * registry (ESM and CJS builds in one process, two bundle chunks), and a user's own 'fsq' registered
 * earlier is not replaced. Runs on import; exported for re-registering after an unregister.
 */
export function registerFiniteScalarQuantizer(): void {
  if (!quantizerRegistry.has('fsq')) registerQuantizer('fsq', (config) => new FiniteScalarQuantizer(config));
}

registerFiniteScalarQuantizer();
