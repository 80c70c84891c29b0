/**
 * Registers 'vq' with core's quantizer registry when the package is imported, and types its config by
 * declaration merging, so `createQuantizer({ type: 'vq', dim, codebookSize })` type-checks.
 */
import { quantizerRegistry, registerQuantizer } from '@vtok/core';
import type { VectorQuantizerConfig } from './config';
import { VectorQuantizer } from './vector-quantizer';

declare module '@vtok/core' {
  interface QuantizerConfigs {
    vq: VectorQuantizerConfig;
  }
}

/**
 * Registers 'vq' unless the name is taken. Idempotent: the package may be evaluated twice against one
 * registry (two bundle chunks, ESM and CJS builds sharing one core), and a user's own 'vq' registered
 * earlier must not be replaced. Runs on import; exported for tests and for re-registering after an
 * unregister.
 */
export function registerVectorQuantizer(): void {
  if (!quantizerRegistry.has('vq')) registerQuantizer('vq', (config) => new VectorQuantizer(config));
}

registerVectorQuantizer();
