// VectorQuantizer configuration, state dict and registration (runs once, on cpu).
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, StateDictError, UnknownPluginError, createQuantizer, quantizerRegistry } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { DEAD_CODE_DEFAULTS, EMA_DEFAULTS, VQ_DEFAULTS, VectorQuantizer, registerVectorQuantizer } from '../../src';

describe('VectorQuantizer config', () => {
  it('takes the official defaults (use_l2_norm false, commitment_cost 0.25) and names', () => {
    const vq = new VectorQuantizer({ dim: 12, codebookSize: 4096 });
    expect(vq.type).toBe('vq');
    expect(vq.specificationVersion).toBe('v1');
    expect([vq.dim, vq.codebookSize, vq.useL2Norm, vq.commitmentCost]).toEqual([12, 4096, false, 0.25]);
    expect(VQ_DEFAULTS).toEqual({ useL2Norm: false, commitmentCost: 0.25 });
    expect(vq.ema).toBeNull();
    expect(vq.deadCodeRestart).toBeNull();
    expect(vq.embedding.weight.trainable).toBe(true);
    vq.dispose();
    const full = new VectorQuantizer({ dim: 2, codebookSize: 3, ema: true, deadCodeRestart: true });
    expect(full.ema).toEqual(EMA_DEFAULTS);
    expect(full.deadCodeRestart).toEqual(DEAD_CODE_DEFAULTS);
    full.dispose();
  });

  it('state dict: embedding.weight [K, dim] only, as the official module (plus cluster_size with EMA)', () => {
    const vq = new VectorQuantizer({ dim: 12, codebookSize: 64, useL2Norm: true });
    const dict = vq.stateDict();
    expect(Object.keys(dict)).toEqual(['embedding.weight']);
    expect(dict['embedding.weight'].shape).toEqual([64, 12]);
    const wrong = tf.zeros([64, 11]);
    expect(() => vq.loadStateDict({ 'embedding.weight': wrong })).toThrow(StateDictError);
    expect(() => vq.loadStateDict({ 'embedding.weight': wrong })).toThrow(/embedding\.weight: expected \[64, 12\], got \[64, 11\]/);
    wrong.dispose();
    vq.dispose();
    const ema = new VectorQuantizer({ dim: 3, codebookSize: 5, ema: { decay: 0.9 } });
    expect(Object.keys(ema.stateDict()).sort()).toEqual(['cluster_size', 'embedding.weight']);
    expect(ema.stateDict().cluster_size.shape).toEqual([5]);
    ema.dispose();
  });

  it.each([
    [{ dim: 0, codebookSize: 4 }, /dim must be a positive integer, got 0/],
    [{ dim: 3, codebookSize: 2.5 }, /codebookSize must be a positive integer, got 2\.5/],
    [{ dim: 3, codebookSize: 4, commitmentCost: -1 }, /commitmentCost must be a finite number >= 0, got -1/],
    [{ dim: 3, codebookSize: 4, ema: { decay: 1 } }, /ema\.decay must be in \[0, 1\), got 1/],
    [{ dim: 3, codebookSize: 4, ema: { eps: 0 } }, /ema\.eps must be a finite number > 0, got 0/],
    [{ dim: 3, codebookSize: 4, deadCodeRestart: { afterCalls: 0 } }, /deadCodeRestart\.afterCalls must be a positive integer, got 0/],
    [{ dim: 3, codebookSize: 4, checkValues: 'sometimes' }, /checkValues must be 'auto', true or false, got sometimes/],
  ])('rejects %o', (config, message) => {
    const before = tf.memory().numTensors;
    expect(() => new VectorQuantizer(config as never)).toThrow(ConfigError);
    expect(() => new VectorQuantizer(config as never)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('registration', () => {
  it("is registered as 'vq' on import; createQuantizer builds it from a typed config", () => {
    expect(quantizerRegistry.names()).toContain('vq');
    const q = createQuantizer({ type: 'vq', dim: 12, codebookSize: 32, useL2Norm: true, commitmentCost: 0.1 });
    expect(q).toBeInstanceOf(VectorQuantizer);
    expect([q.type, q.dim, q.codebookSize]).toEqual(['vq', 12, 32]);
    expect((q as VectorQuantizer).useL2Norm).toBe(true);
    expect((q as VectorQuantizer).commitmentCost).toBe(0.1);
    q.dispose();
  });

  it('registering again (a second evaluation of the package) keeps the first registration and does not throw', () => {
    expect(() => registerVectorQuantizer()).not.toThrow();
    expect(() => registerVectorQuantizer()).not.toThrow();
    // A user's own 'vq' registered with { replace: true } is not overridden by a later package evaluation.
    const own = (config: { dim: number; codebookSize: number }) => new VectorQuantizer({ ...config, useL2Norm: true });
    quantizerRegistry.register('vq', own, { replace: true });
    registerVectorQuantizer();
    const q = createQuantizer({ type: 'vq', dim: 2, codebookSize: 3 }) as VectorQuantizer;
    expect(q.useL2Norm).toBe(true);
    q.dispose();
    quantizerRegistry.unregister('vq');
    registerVectorQuantizer();
    const back = createQuantizer({ type: 'vq', dim: 2, codebookSize: 3 }) as VectorQuantizer;
    expect(back.useL2Norm).toBe(false);
    back.dispose();
  });

  it('an unknown name lists the registered ones', () => {
    expect(() => createQuantizer({ type: 'nope' } as never)).toThrow(UnknownPluginError);
    expect(() => createQuantizer({ type: 'nope' } as never)).toThrow(/registered quantizers: .*"vq"/);
  });
});
