import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Module, ModuleList, StateDictError } from '../src';

class Leaf extends Module {
  readonly weight: tf.Variable;
  constructor(rows: number, cols: number) {
    super();
    this.weight = this.addParameter('weight', tf.ones([rows, cols]));
    this.addBuffer('count', tf.zeros([1], 'int32'));
  }
}

class Tree extends Module {
  readonly head = this.addModule('head', new Leaf(2, 3));
  readonly blocks = this.addModule('blocks', new ModuleList([new Leaf(1, 1), new Leaf(4, 1)]));
  readonly scale = this.addParameter('scale', tf.scalar(2));
}

describe('Module', () => {
  it('names parameters and buffers with dotted paths, as PyTorch does', () => {
    const t = new Tree();
    expect(Object.keys(t.stateDict())).toEqual([
      'scale',
      'head.weight',
      'blocks.0.weight',
      'blocks.1.weight',
      'head.count',
      'blocks.0.count',
      'blocks.1.count',
    ]);
    expect(t.parameterCount()).toBe(1 + 6 + 1 + 4);
    t.dispose();
  });

  it('loads a state dict and reports every problem at once', () => {
    const t = new Tree();
    const good = Object.fromEntries(Object.entries(t.stateDict()).map(([k, v]) => [k, tf.fill(v.shape, 7, v.dtype)]));
    t.loadStateDict(good);
    expect(Array.from(t.head.weight.dataSync())).toEqual([7, 7, 7, 7, 7, 7]);

    const bad = { ...good, 'head.weight': tf.zeros([3, 2]), extra: tf.zeros([1]) } as Record<string, tf.Tensor>;
    delete bad['blocks.1.weight'];
    let error: unknown;
    try {
      t.loadStateDict(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const problems = (error as StateDictError).problems;
    expect(problems.missing).toEqual(['blocks.1.weight']);
    expect(problems.unexpected).toEqual(['extra']);
    expect(problems.mismatched).toEqual([{ name: 'head.weight', expected: [2, 3], got: [3, 2] }]);
    expect((error as Error).message).toMatch(/missing \(1\): blocks\.1\.weight/);
    // Nothing was assigned on error.
    expect(Array.from(t.head.weight.dataSync())).toEqual([7, 7, 7, 7, 7, 7]);

    // Non-strict loading accepts missing/unexpected but never mis-shaped tensors.
    const partial = { 'head.weight': tf.fill([2, 3], 1), extra: tf.zeros([1]) };
    const report = t.loadStateDict(partial, { strict: false });
    expect(report.unexpected).toEqual(['extra']);
    expect(Array.from(t.head.weight.dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
    tf.dispose([...Object.values(good), bad['head.weight'], bad.extra, ...Object.values(partial)]);
    t.dispose();
  });

  it('toggles trainable flags and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const t = new Tree();
    expect(t.trainableVariables()).toHaveLength(4);
    t.head.setTrainable(false);
    expect(t.trainableVariables()).toHaveLength(3);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects duplicate and dotted entry names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.addParameter('w', tf.zeros([1]));
        this.addParameter(name, tf.zeros([1]));
      }
    }
    expect(() => new Bad('w')).toThrow(/already registered/);
    expect(() => new Bad('a.b')).toThrow(/invalid module entry name/);
  });
});
