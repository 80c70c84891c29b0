// Recipe 4 end to end at a tiny size: a MaskGIT trained on a token dataset (each class its own token
// pattern, with noise) through trainGenerator; the loss falls by a stated factor and class-conditional
// samples follow their class's pattern. A resumed run equals an uninterrupted one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createMaskGIT } from '@vtok/maskgit';
import { prng } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { trainGenerator, type Dataset, type LogRecord, type TokenExample } from '../src';

const temp = mkdtempSync(join(tmpdir(), 'vtok-recipe-gen-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const L = 8;
const K = 16;
/** Class c's pattern: token j = (c·5 + j·3) mod K. */
const pattern = (c: number) => Int32Array.from({ length: L }, (_, j) => (c * 5 + j * 3) % K);

function tokenData(n: number): Dataset<TokenExample> {
  const r = prng(5);
  const examples = Array.from({ length: n }, (_, i) => {
    const label = i % 4;
    const tokens = pattern(label);
    // One token in sixteen replaced by noise: the generator must learn the pattern, not a copy.
    for (let j = 0; j < L; j++) if (r.next() < 1 / 16) tokens[j] = r.int(K);
    return { tokens, label };
  });
  return { length: n, get: async (i) => examples[i] };
}

const makeGenerator = () =>
  createMaskGIT({ codebookSize: K, numClasses: 4, tokenShape: [L], hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 64, dropout: 0, attnDrop: 0 }, { seed: 1 });

describe('trainGenerator (recipe 4)', () => {
  it('the loss falls by more than 2× (first step vs the mean of the last 10) and samples follow their class', async () => {
    const before = tf.memory().numTensors;
    const generator = makeGenerator();
    const logs: LogRecord[] = [];
    const result = await trainGenerator(generator, tokenData(256), { steps: 120, batchSize: 32, lr: 3e-3, logEvery: 1, progressBar: false, onLog: (r) => logs.push(r) });
    expect(result.step).toBe(120);
    const first = logs[0].loss;
    const last = logs.slice(-10).reduce((sum, l) => sum + l.loss, 0) / 10;
    expect(last).toBeLessThan(first / 2);
    expect(Object.keys(logs[0])).toEqual(expect.arrayContaining(['loss', 'accuracy', 'lr', 'grad_norm']));
    const classes = [0, 1, 2, 3, 0, 1, 2, 3];
    // Greedy, unguided sampling: at this size the unconditional branch (10 % of the batches) is too weak for guidance to help.
    const samples = await generator.sample({ classes, steps: 8, seed: 3, guidanceScale: 0, randomizeTemperature: 0 });
    const ids = await samples.array() as number[][];
    let matches = 0;
    ids.forEach((row, i) => row.forEach((t, j) => (matches += t === pattern(classes[i])[j] ? 1 : 0)));
    expect(matches / (ids.length * L)).toBeGreaterThan(0.9);
    samples.dispose();
    generator.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes bit-identically (masking and class dropout draws come from the checkpoint)', async () => {
    // A run of 6 steps stopped after step 3 (an abort writes a checkpoint), then resumed.
    const run = async (stopAfter?: number, dir?: string, resume = false) => {
      const g = makeGenerator();
      const stop = new AbortController();
      await trainGenerator(g, tokenData(64), {
        steps: 6,
        batchSize: 8,
        lr: 1e-3,
        progressBar: false,
        checkpoint: dir ? { dir } : undefined,
        resume,
        signal: stop.signal,
        onProgress: (e) => e.status === 'step' && e.step === stopAfter && stop.abort(),
      }).catch((e: Error) => expect(e.name).toBe('AbortError'));
      const weights = await Promise.all([...g.namedParameters()].map(async ([, v]) => v.data()));
      g.dispose();
      return weights;
    };
    const straight = await run();
    const dir = join(temp, 'gen');
    await run(3, dir);
    expect(await run(undefined, dir, true)).toEqual(straight);
  });

  it('refuses a dataset without labels or of the wrong length with typed errors', async () => {
    const generator = makeGenerator();
    const unlabeled: Dataset<TokenExample> = { length: 8, get: async () => ({ tokens: pattern(0) }) };
    await expect(trainGenerator(generator, unlabeled, { steps: 1, batchSize: 4, progressBar: false })).rejects.toThrow(/has no labels/);
    const short: Dataset<TokenExample> = { length: 8, get: async () => ({ tokens: new Int32Array(4), label: 0 }) };
    await expect(trainGenerator(generator, short, { steps: 1, batchSize: 4, progressBar: false })).rejects.toThrow(/takes 8 tokens per sample/);
    generator.dispose();
  });
});
