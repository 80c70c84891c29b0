import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createQuantizer, type Quantizer, quantizerRegistry, registerQuantizer, Registry, UnknownPluginError } from '../src';

// A user's own quantizer config, added to the typed registry by declaration merging.
declare module '../src/registry' {
  interface QuantizerConfigs {
    'test-sign': { dim: number; scale?: number };
  }
}

function signQuantizer({ dim, scale = 1 }: { dim: number; scale?: number }): Quantizer {
  return {
    specificationVersion: 'v1',
    type: 'test-sign',
    codebookSize: 2 ** dim,
    dim,
    quantize: (z) =>
      tf.tidy(() => {
        const bits = tf.greater(z, 0);
        const quantized = tf.mul(tf.sub(tf.mul(tf.cast(bits, 'float32'), 2), 1), scale);
        const weights = tf.tensor1d(Array.from({ length: dim }, (_, i) => 2 ** i), 'int32');
        const indices = tf.sum(tf.mul(tf.cast(bits, 'int32'), weights), -1);
        return { quantized, indices, losses: {} };
      }),
    lookup: () => {
      throw new Error('not needed here');
    },
    dispose: () => {},
  };
}

describe('typed registries', () => {
  it('creates a registered plugin from its config', () => {
    registerQuantizer('test-sign', signQuantizer, { replace: true });
    const q = createQuantizer({ type: 'test-sign', dim: 3, scale: 0.5 });
    expect(q.codebookSize).toBe(8);
    const { quantized, indices } = q.quantize(tf.tensor2d([[1, -1, 2]]));
    expect(Array.from(quantized.dataSync())).toEqual([0.5, -0.5, 0.5]);
    expect(Array.from(indices.dataSync())).toEqual([5]);
    tf.dispose([quantized, indices]);
  });

  it('refuses unknown names with the list of known ones', () => {
    registerQuantizer('test-sign', signQuantizer, { replace: true });
    let error: unknown;
    try {
      // @ts-expect-error 'nope' is not a registered quantizer name
      createQuantizer({ type: 'nope', dim: 3 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownPluginError);
    expect((error as Error).message).toContain('unknown quantizer "nope"');
    expect((error as Error).message).toContain('"test-sign"');
  });

  it('type-checks configs of registered names', () => {
    // These lines are checked by `tsc` (pnpm typecheck), which fails if an expected error disappears.
    const wrongConfig = () =>
      // @ts-expect-error dim must be a number
      createQuantizer({ type: 'test-sign', dim: 'three' });
    const missingField = () =>
      // @ts-expect-error dim is required
      createQuantizer({ type: 'test-sign' });
    expect(typeof wrongConfig).toBe('function');
    expect(typeof missingField).toBe('function');
  });

  it('refuses a second registration unless asked to replace', () => {
    const r = new Registry<{ a: { n: number } }, number>('thing');
    r.register('a', ({ n }) => n);
    expect(() => r.register('a', ({ n }) => n + 1)).toThrow(/already registered/);
    r.register('a', ({ n }) => n + 1, { replace: true });
    expect(r.create({ type: 'a', n: 1 })).toBe(2);
    expect(r.names()).toEqual(['a']);
    expect(quantizerRegistry.kind).toBe('quantizer');
  });
});
