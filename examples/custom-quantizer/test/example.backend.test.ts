// The example end to end on every backend. This file imports only ../src/run, as main.ts does, so the
// plugin's registration must come from run.ts's own imports (a type-only import would lose it).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runExample } from '../src/run';

describe('the example', () => {
  it('trains the tokenizer a few steps, then images -> tokens -> images, leaving no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const report = await runExample({ steps: 25, batch: 4, seed: 3, log: (l) => lines.push(l) });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.vocabSize).toBe(16 ** 3);
    expect(report.tokenShape).toEqual([4, 4]);
    expect(report.stateDictKeys).toEqual([
      'encoder.weight',
      'encoder.bias',
      'decoder.weight',
      'decoder.bias',
      'quantize.stages.0.embedding.weight',
      'quantize.stages.1.embedding.weight',
      'quantize.stages.2.embedding.weight',
    ]);
    expect(report.tokensOfFirstImage).toHaveLength(16);
    for (const t of report.tokensOfFirstImage) expect(t >= 0 && t < report.vocabSize && Number.isInteger(t)).toBe(true);
    // Training works through the plugin: the loss falls and the token round trip improves.
    expect(report.lossHistory.at(-1)!).toBeLessThan(report.lossHistory[0] * 0.7);
    expect(report.errorAfter).toBeLessThan(report.errorBefore);
    // decode(encode(x)) is the training path's output (codes from ids = the straight-through values).
    expect(report.errorAfter).toBeCloseTo(report.trainingPathError, 5);
    expect(report.codesUsedPerStage.every((n) => n >= 1)).toBe(true);
    expect(lines.join('\n')).toMatch(/residual VQ: 3 stages x 16 codes = 4096 tokens/);
  });
});
