// The residual-VQ plugin on every backend: it keeps core's Quantizer contract (values, ids, lookup,
// straight-through gradient, state dict, registry).
import * as tf from '@tensorflow/tfjs-core';
import { ValueError, createQuantizer, quantizerRegistry } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { ResidualVQ, registerResidualVQ } from '../src/residual-vq';

describe('ResidualVQ plugin', () => {
  it("is registered as 'residual-vq' and created through the typed registry", () => {
    registerResidualVQ(); // idempotent
    expect(quantizerRegistry.names()).toEqual(expect.arrayContaining(['residual-vq', 'vq']));
    const q = createQuantizer({ type: 'residual-vq', dim: 4, stageCodebookSize: 5, numStages: 3, seed: 1 });
    expect(q).toBeInstanceOf(ResidualVQ);
    expect([q.type, q.dim, q.codebookSize]).toEqual(['residual-vq', 4, 125]);
    expect(Object.keys((q as ResidualVQ).stateDict())).toEqual(['stages.0.embedding.weight', 'stages.1.embedding.weight', 'stages.2.embedding.weight']);
    q.dispose();
  });

  it('quantizes the residuals stage by stage; ids combine the stage ids; lookup inverts them', async () => {
    const rvq = new ResidualVQ({ dim: 3, stageCodebookSize: 4, numStages: 2, seed: 2 });
    // Spread codebooks so every stage has work to do.
    for (const [s, stage] of rvq.stages.items.entries()) stage.embedding.weight.assign(tf.randomNormal([4, 3], 0, 1 / (s + 1), 'float32', 10 + s));
    const z = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3);
    const r = rvq.quantize(z);
    // By hand: stage 0 on z, stage 1 on z − q0.
    const a = rvq.stages.at(0).quantize(z);
    const rest = tf.sub(z, a.quantized);
    const b = rvq.stages.at(1).quantize(rest);
    const expected = tf.add(a.quantized, b.quantized);
    const diff = tf.max(tf.abs(tf.sub(r.quantized, expected)));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    const ids = tf.add(a.indices, tf.mul(b.indices, 4));
    expect(Array.from(await r.indices.data())).toEqual(Array.from(await ids.data()));
    const looked = rvq.lookup(r.indices);
    const lookDiff = tf.max(tf.abs(tf.sub(looked, expected)));
    expect((await lookDiff.data())[0]).toBeLessThan(1e-6);
    // Losses add up over the stages.
    const total = tf.add(a.losses.total, b.losses.total);
    expect((await r.losses.total.data())[0]).toBeCloseTo((await total.data())[0], 5);
    tf.dispose([z, r.quantized, r.indices, ...Object.values(r.losses), a.quantized, a.indices, ...Object.values(a.losses), rest]);
    tf.dispose([b.quantized, b.indices, ...Object.values(b.losses), expected, diff, ids, looked, lookDiff, total]);
    rvq.dispose();
  });

  it('passes the gradient to z unchanged (one straight-through for the whole stack)', async () => {
    const rvq = new ResidualVQ({ dim: 3, stageCodebookSize: 4, numStages: 3, seed: 4 });
    const z = tf.randomNormal([4, 3], 0, 1, 'float32', 5);
    const cot = tf.randomNormal([4, 3], 0, 1, 'float32', 6);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(rvq.quantize(x).quantized, cot)))(z);
    expect(Array.from(await g.data())).toEqual(Array.from(await cot.data()));
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, cot]);
    rvq.dispose();
  });

  it('rejects ids outside its K^S vocabulary (through the package helper, on every backend)', async () => {
    const rvq = new ResidualVQ({ dim: 2, stageCodebookSize: 3, numStages: 2 });
    const ids = tf.tensor1d([0, 9], 'int32');
    const { assertCodeIndicesAsync } = await import('@vtok/quantizers');
    await expect(assertCodeIndicesAsync(ids, rvq.codebookSize, 'decode')).rejects.toThrow(ValueError);
    ids.dispose();
    rvq.dispose();
  });
});
