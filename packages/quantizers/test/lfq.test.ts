// LFQ / FSQ configuration, registration and typing (unit project, cpu).
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, createQuantizer, quantizerRegistry } from '@vtok/core';
import { describe, expect, it, vi } from 'vitest';
import { FiniteScalarQuantizer, registerFiniteScalarQuantizer } from '../src/fsq';
import { LFQ_DEFAULTS, LFQ_PRESETS, LookupFreeQuantizer, defaultLfqEntropyGroups, lfqBitWeights, registerLookupFreeQuantizer } from '../src/lfq';

describe('LookupFreeQuantizer config', () => {
  it('dim and codebookSize determine each other', () => {
    expect(new LookupFreeQuantizer({ dim: 18 }).codebookSize).toBe(2 ** 18);
    expect(new LookupFreeQuantizer({ codebookSize: 1024 }).dim).toBe(10);
    expect(new LookupFreeQuantizer({ dim: 10, codebookSize: 1024 }).dim).toBe(10);
  });

  it('defaults are the paper / Open-MAGVIT2 settings', () => {
    const c = new LookupFreeQuantizer({ dim: 18 }).config;
    expect(c).toMatchObject(LFQ_DEFAULTS);
    expect(c).toMatchObject(LFQ_PRESETS.openMagvit2);
    expect(c.codebookEntropyGroups).toEqual([9, 9]);
    expect(c.factorizedBits).toBeNull();
  });

  it('the codebook entropy is exact (one group) up to 12 bits, then near-equal groups of at most 12', () => {
    expect(defaultLfqEntropyGroups(1)).toEqual([1]);
    expect(defaultLfqEntropyGroups(12)).toEqual([12]);
    expect(defaultLfqEntropyGroups(13)).toEqual([7, 6]);
    expect(defaultLfqEntropyGroups(18)).toEqual([9, 9]);
    expect(defaultLfqEntropyGroups(24)).toEqual([12, 12]);
    for (let d = 1; d <= 24; d++) {
      const g = defaultLfqEntropyGroups(d);
      expect(g.reduce((a, b) => a + b, 0)).toBe(d);
      expect(Math.max(...g)).toBeLessThanOrEqual(12);
    }
  });

  it.each([
    [{}, /give dim or codebookSize/],
    [{ dim: 0 }, /dim must be an integer in \[1, 24\]/],
    [{ dim: 25 }, /dim must be an integer/],
    [{ dim: 2.5 }, /dim must be an integer/],
    [{ codebookSize: 1000 }, /power of 2/],
    [{ codebookSize: 2 ** 25 }, /power of 2 in \[2, 2\^24\]/],
    [{ dim: 10, codebookSize: 4096 }, /dim 10 must equal log2\(codebookSize\) = 12 \(input projections are not supported\)/],
    [{ dim: 4, entropyLossWeight: -1 }, /entropyLossWeight must be a finite number >= 0, got -1/],
    [{ dim: 4, invTemperature: 0 }, /invTemperature must be a finite number > 0/],
    [{ dim: 4, codebookScale: Number.NaN }, /codebookScale must be a finite number > 0/],
    [{ dim: 4, bitOrder: 'middle' }, /bitOrder must be 'lsb' or 'msb', got middle/],
    [{ dim: 4, entropyFormula: 'exact' }, /entropyFormula must be 'open-magvit2' or 'lucidrains'/],
    [{ dim: 6, codebookEntropyGroups: [3, 2] }, /codebookEntropyGroups \[3, 2\] sums to 5 bits, expected 6/],
    [{ dim: 6, codebookEntropyGroups: [6, 0] }, /positive integers/],
    [{ dim: 6, factorizedBits: [] }, /factorizedBits must be a non-empty array/],
    [{ dim: 6, checkValues: 'sometimes' }, /checkValues must be 'auto', true or false/],
  ])('%j is a ConfigError', (config, message) => {
    expect(() => new LookupFreeQuantizer(config as never)).toThrow(ConfigError);
    expect(() => new LookupFreeQuantizer(config as never)).toThrow(message);
  });

  it('bit weights: LSB-first channel 0 = 1, MSB-first channel 0 = 2^(d-1)', () => {
    expect(lfqBitWeights(4, 'lsb')).toEqual([1, 2, 4, 8]);
    expect(lfqBitWeights(4, 'msb')).toEqual([8, 4, 2, 1]);
  });

  it('factorization() needs bits from the argument or the config', () => {
    expect(() => new LookupFreeQuantizer({ dim: 18 }).factorization()).toThrow(ConfigError);
    expect(new LookupFreeQuantizer({ dim: 18, factorizedBits: [6, 12] }).factorization().vocabSizes).toEqual([64, 4096]);
    expect(new LookupFreeQuantizer({ dim: 18 }).factorization([9, 9]).vocabSizes).toEqual([512, 512]);
    expect(() => new LookupFreeQuantizer({ dim: 18 }).factorization([9, 8])).toThrow(/sums to 17 bits, expected 18/);
  });
});

describe('FiniteScalarQuantizer config', () => {
  it('codebook size, dim and basis', () => {
    const q = new FiniteScalarQuantizer({ levels: [8, 6, 5] });
    expect(q.codebookSize).toBe(240);
    expect(q.dim).toBe(3);
    expect(q.config.channels.map((c) => c.basis)).toEqual([1, 8, 48]);
    expect(q.config.channels.map((c) => c.halfWidth)).toEqual([4, 3, 2]);
    expect(q.config.channels.map((c) => c.offset)).toEqual([0.5, 0.5, 0]);
  });

  it.each([
    [{ levels: [] }, /levels must be a non-empty array/],
    [{ levels: [8, 2] }, /every level must be an integer >= 3 \(2 needs preserve_symmetry/],
    [{ levels: [8, 4.5] }, /every level must be an integer >= 3/],
    [{ levels: [8, 5], dim: 3 }, /dim 3 must equal levels.length 2/],
    [{ levels: [256, 256, 257] }, /exceeds 2\^24/],
    [{ levels: [5], checkValues: 1 }, /checkValues must be/],
  ])('%j is a ConfigError', (config, message) => {
    expect(() => new FiniteScalarQuantizer(config as never)).toThrow(ConfigError);
    expect(() => new FiniteScalarQuantizer(config as never)).toThrow(message);
  });
});

describe('registration', () => {
  it("'lfq' and 'fsq' are registered and build the right quantizers", () => {
    expect(quantizerRegistry.names()).toEqual(expect.arrayContaining(['lfq', 'fsq']));
    const lfq = createQuantizer({ type: 'lfq', dim: 18, bitOrder: 'msb' });
    expect(lfq).toBeInstanceOf(LookupFreeQuantizer);
    expect(lfq.type).toBe('lfq');
    expect((lfq as LookupFreeQuantizer).config.bitOrder).toBe('msb');
    const fsq = createQuantizer({ type: 'fsq', levels: [8, 5, 5, 5] });
    expect(fsq).toBeInstanceOf(FiniteScalarQuantizer);
    expect(fsq.codebookSize).toBe(1000);
  });

  it('evaluating the registering modules again (a second copy of the package) neither throws nor replaces', async () => {
    const has = vi.spyOn(quantizerRegistry, 'has');
    const register = vi.spyOn(quantizerRegistry, 'register');
    // A query string makes Vite evaluate each module a second time, against the same @vtok/core.
    for (const path of ['../src/lfq/register.ts?second-copy', '../src/fsq/register.ts?second-copy']) {
      await expect(import(/* @vite-ignore */ path)).resolves.toBeDefined();
    }
    expect(has.mock.calls.map(([name]) => name)).toEqual(['lfq', 'fsq']);
    expect(register).not.toHaveBeenCalled();
    has.mockRestore();
    register.mockRestore();
    expect(quantizerRegistry.create({ type: 'lfq', dim: 3 })).toBeInstanceOf(LookupFreeQuantizer);
  });

  it("register functions restore a removed name and never replace a user's own", () => {
    expect(quantizerRegistry.unregister('lfq')).toBe(true);
    registerLookupFreeQuantizer();
    expect(createQuantizer({ type: 'lfq', dim: 2 })).toBeInstanceOf(LookupFreeQuantizer);
    const mine = new FiniteScalarQuantizer({ levels: [3] });
    quantizerRegistry.register('fsq', () => mine, { replace: true });
    registerFiniteScalarQuantizer();
    expect(createQuantizer({ type: 'fsq', levels: [5] })).toBe(mine);
    quantizerRegistry.unregister('fsq');
    registerFiniteScalarQuantizer();
    expect(createQuantizer({ type: 'fsq', levels: [5] })).not.toBe(mine);
  });

  it('configs are type-checked per name (tsc fails on each line below without its @ts-expect-error)', () => {
    const typeOnly = () => {
      // @ts-expect-error FSQ needs levels
      createQuantizer({ type: 'fsq', dim: 4 });
      // @ts-expect-error levels is not an LFQ option
      createQuantizer({ type: 'lfq', dim: 4, levels: [3] });
      // @ts-expect-error bitOrder is 'lsb' | 'msb'
      createQuantizer({ type: 'lfq', dim: 4, bitOrder: 'big' });
      // @ts-expect-error entropyFormula names an implementation
      createQuantizer({ type: 'lfq', dim: 4, entropyFormula: 'exact' });
      // @ts-expect-error levels are numbers
      createQuantizer({ type: 'fsq', levels: ['8'] });
    };
    expect(typeof typeOnly).toBe('function');
  });
});

describe('input checks that need no read-back', () => {
  it('LFQ: wrong last dimension, integer latents, integer ids', () => {
    const q = new LookupFreeQuantizer({ dim: 4 });
    const wrong = tf.zeros([2, 5]);
    expect(() => q.quantize(wrong)).toThrow(ShapeError);
    expect(() => q.quantize(wrong)).toThrow(/expected latents \[\.\.\., 4\] \(last dimension = dim 4\), got last dimension 5 in shape \[2, 5\]/);
    const ints = tf.zeros([2, 4], 'int32');
    expect(() => q.quantize(ints)).toThrow(DTypeError);
    expect(() => q.quantize(ints)).toThrow(/latents must be float32, got int32/);
    const floatIds = tf.zeros([3]);
    expect(() => q.lookup(floatIds)).toThrow(DTypeError);
    expect(() => q.lookup(floatIds)).toThrow(/code indices must be int32, got float32/);
    tf.dispose([wrong, ints, floatIds]);
  });

  it('FSQ: wrong last dimension, integer latents, integer ids', () => {
    const q = new FiniteScalarQuantizer({ levels: [8, 5, 5, 5] });
    const wrong = tf.zeros([2, 3]);
    expect(() => q.quantize(wrong)).toThrow(ShapeError);
    const ints = tf.zeros([2, 4], 'int32');
    expect(() => q.quantize(ints)).toThrow(DTypeError);
    const floatIds = tf.zeros([3]);
    expect(() => q.lookup(floatIds)).toThrow(DTypeError);
    tf.dispose([wrong, ints, floatIds]);
  });
});
