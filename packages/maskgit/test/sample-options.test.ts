import * as tf from '@tensorflow/tfjs-core';
import { UnknownPluginError, ValueError } from '@vtok/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createMaskGIT } from '../src';

const model = createMaskGIT({ codebookSize: 16, numClasses: 10, tokenShape: [4], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32 }, { seed: 1 });
afterAll(() => model.dispose());

describe('sample() refuses bad options before any work, with typed errors', () => {
  const cases: [string, Record<string, unknown>, typeof ValueError | typeof UnknownPluginError, RegExp][] = [
    ['a class id out of range', { classes: [3, 10] }, ValueError, /classes\[1\] must be an integer class id in \[0, 9\] \(the generator has 10 classes\), got 10/],
    ['a negative class id', { classes: [-1] }, ValueError, /classes\[0\] .* got -1/],
    ['a fractional class id', { classes: [1.5] }, ValueError, /got 1.5/],
    ['no classes', { classes: [] }, ValueError, /at least one class id/],
    ['classes that are not an array', { classes: 3 }, ValueError, /must be an array of class ids/],
    ['steps < 1', { classes: [0], steps: 0 }, ValueError, /steps must be an integer >= 1, got 0/],
    ['fractional steps', { classes: [0], steps: 2.5 }, ValueError, /steps must be an integer >= 1, got 2.5/],
    ['guidance < 0', { classes: [0], guidanceScale: -1 }, ValueError, /guidanceScale must be a finite number >= 0, got -1/],
    ['guidance NaN', { classes: [0], guidanceScale: Number.NaN }, ValueError, /guidanceScale must be a finite number/],
    ['an unknown guidance decay', { classes: [0], guidanceDecay: 'cosine' }, ValueError, /guidanceDecay must be one of 'constant', 'linear', 'power-cosine', got "cosine"/],
    ['a negative temperature', { classes: [0], randomizeTemperature: -0.5 }, ValueError, /randomizeTemperature must be a finite number >= 0/],
    ['a schedule name that does not exist', { classes: [0], schedule: 'zigzag' }, UnknownPluginError, /unknown masking schedule "zigzag"; registered masking schedules: "arccos", "cosine"/],
    ['a seed that is not a number', { classes: [0], seed: 'abc' }, ValueError, /seed must be a finite number/],
  ];
  for (const [label, options, ErrorClass, message] of cases) {
    it(label, async () => {
      const before = tf.memory().numTensors;
      const attempt = model.sample(options as never);
      await expect(attempt).rejects.toThrow(ErrorClass);
      await expect(model.sample(options as never)).rejects.toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('takes the defaults from the config and lets every option override them', async () => {
    const seen: number[] = [];
    const out = await model.sample({ classes: [0, 9], seed: 3, onProgress: (e) => seen.push(e.of) });
    expect(seen).toEqual(Array(model.config.sampling.steps).fill(model.config.sampling.steps));
    expect(out.shape).toEqual([2, 4]);
    out.dispose();
    const steps: number[] = [];
    (await model.sample({ classes: [0], steps: 2, seed: 3, onProgress: (e) => steps.push(e.step) })).dispose();
    expect(steps).toEqual([1, 2]);
  });
});
