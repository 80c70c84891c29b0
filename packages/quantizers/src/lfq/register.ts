/**
 * Registers 'lfq' with core's quantizer registry when the package is imported, and types its config by
 * declaration merging, so `createQuantizer({ type: 'lfq', dim: 18 })` type-checks.
 */
import { quantizerRegistry, registerQuantizer } from '@vtok/core';
import type { LfqConfig } from './config';
import { LookupFreeQuantizer } from './lookup-free-quantizer';

declare module '@vtok/core' {
  interface QuantizerConfigs {
    lfq: LfqConfig;
  }
}

/**
 * Registers 'lfq' unless the name is taken. Idempotent: the package may be evaluated twice against one
 * registry (ESM and CJS builds in one process, two bundle chunks), and a user's own 'lfq' registered
 * earlier is not replaced. Runs on import; exported for re-registering after an unregister.
 */
export function registerLookupFreeQuantizer(): void {
  if (!quantizerRegistry.has('lfq')) registerQuantizer('lfq', (config) => new LookupFreeQuantizer(config));
}

registerLookupFreeQuantizer();
