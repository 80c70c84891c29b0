// Compile-time checks of the typed quantizer registry (not run: `tsc --noEmit -p tsconfig.json`, part of
// `pnpm typecheck`, compiles this file). Every `@ts-expect-error` must meet an error, or tsc fails
// ("Unused '@ts-expect-error' directive"); registry-types.test.ts checks the same with the compiler API.
import { type Quantizer, createQuantizer, registerQuantizer } from '@vtok/core';
import { VectorQuantizer, type VectorQuantizerConfig } from '../src';

interface TypecheckOnlyConfig {
  dim: number;
  levels: number[];
}

declare module '@vtok/core' {
  interface QuantizerConfigs {
    'typecheck-only': TypecheckOnlyConfig;
  }
}

export function typedRegistryChecks(make: (config: TypecheckOnlyConfig) => Quantizer): Quantizer[] {
  registerQuantizer('typecheck-only', make);
  // @ts-expect-error the factory must accept the config registered for the name
  registerQuantizer('typecheck-only', (config: { size: string }) => make({ dim: 1, levels: [config.size.length] }));

  const good: Quantizer[] = [
    createQuantizer({ type: 'vq', dim: 12, codebookSize: 4096 }),
    createQuantizer({ type: 'vq', dim: 12, codebookSize: 4096, useL2Norm: true, commitmentCost: 0.25, ema: { decay: 0.99 } }),
    createQuantizer({ type: 'typecheck-only', dim: 4, levels: [8, 5, 5, 5] }),
  ];
  const config: VectorQuantizerConfig = { dim: 12, codebookSize: 4096 };
  good.push(new VectorQuantizer(config));

  // @ts-expect-error codebookSize must be a number
  createQuantizer({ type: 'vq', dim: 12, codebookSize: '4096' });
  // @ts-expect-error codebookSize is required
  createQuantizer({ type: 'vq', dim: 12 });
  // @ts-expect-error unknown option (a misspelt name is caught)
  createQuantizer({ type: 'vq', dim: 12, codebookSize: 4096, useL2norm: true });
  // @ts-expect-error ema takes a boolean or { decay, eps }
  createQuantizer({ type: 'vq', dim: 12, codebookSize: 4096, ema: 0.99 });
  // @ts-expect-error a user-registered name checks its own config: levels is number[]
  createQuantizer({ type: 'typecheck-only', dim: 4, levels: 8 });
  // @ts-expect-error a user-registered name does not accept another quantizer's options
  createQuantizer({ type: 'typecheck-only', dim: 4, levels: [8], codebookSize: 8 });
  // @ts-expect-error names that nobody registered do not type-check
  createQuantizer({ type: 'not-registered', dim: 4 });
  return good;
}
