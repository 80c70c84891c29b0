// Training runs on every backend and computes the same function there: a tiny 2D VQ tokenizer
// (trainTokenizer: convolutions, GroupNorm, VQ and their gradients) and a tiny MaskGIT (trainGenerator:
// embeddings, attention, LayerNorm) train a few steps on the project's backend and on a reference backend
// from the same seeds. The first loss (same weights, same batch) must agree as a forward pass does; later losses
// within 1 % (AdamW's first steps divide by |g|, so gradients near zero can round to different signs);
// and the loss must fall on every backend. For the VQ tokenizer only the second loss is compared (it
// reads the whole first update: gradients, clipping, AdamW): after that a code assignment can flip on a
// near-tie of the argmin and the runs part ways by design. No tensor is left behind.
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { createMaskGIT } from '@vtok/maskgit';
import { prng } from '@vtok/test-utils';
import { createMaskGitVqgan } from '@vtok/titok';
import { describe, expect, it } from 'vitest';
import { memoryImages, trainGenerator, trainTokenizer, type Dataset, type LogRecord, type TokenExample } from '../src';

const STEPS = 4;
/** The tokenizer's run is shorter: its convolutions are the slow part on cpu and SwiftShader. */
const TOKENIZER_STEPS = 3;
// SwiftShader (webgpu on these CPU-only machines) compiles a shader per kernel variant on the first step.
const TIMEOUT = 600_000;

/**
 * Runs `train` on the project's backend and on a reference: cpu for wasm; wasm (itself checked against
 * cpu in the wasm project) for webgpu, as the pure-JS cpu backend is too slow to run twice per project.
 */
async function onBothBackends(train: () => Promise<LogRecord[]>): Promise<{ reference: number[]; here: number[]; backend: string; against: string }> {
  const backend = tf.getBackend();
  const losses = async () => (await train()).map((l) => l.loss);
  if (backend === 'cpu') {
    const here = await losses();
    return { reference: here, here, backend, against: 'cpu' };
  }
  const against = backend === 'wasm' ? 'cpu' : 'wasm';
  if (against === 'wasm') await wasm().activate(); // registers it and our kernels, as users do
  else await tf.setBackend(against);
  const reference = await losses();
  await tf.setBackend(backend);
  return { reference, here: await losses(), backend, against };
}

function expectSameTraining({ reference, here, backend, against }: Awaited<ReturnType<typeof onBothBackends>>, steps: number, compareSteps = steps): void {
  expect(here).toHaveLength(steps);
  expect(Math.abs(here[0]! - reference[0]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(reference[0]!)));
  here.slice(0, compareSteps).forEach((loss, i) =>
    expect(Math.abs(loss - reference[i]!), `${backend} step ${i + 1}: ${loss} vs ${against} ${reference[i]}`).toBeLessThanOrEqual(0.01 * Math.abs(reference[i]!)),
  );
  expect(here.at(-1)!).toBeLessThan(here[0]!);
}

describe('training on every backend', () => {
  it('trainTokenizer: a tiny MaskGIT-VQGAN trains as on cpu or wasm (first update compared)', async () => {
    const before = tf.memory().numTensors;
    const r = prng(2);
    // Smooth colour gradients: learnable in a few steps.
    const pixels = Float32Array.from({ length: 8 * 8 * 8 * 3 }, (_, i) => {
      const [n, y, x, c] = [Math.floor(i / 192), Math.floor(i / 24) % 8, Math.floor(i / 3) % 8, i % 3];
      return 0.5 + 0.4 * Math.sin((x + 2 * y) / 4 + n + c) * (0.8 + 0.2 * r.next());
    });
    const result = await onBothBackends(async () => {
      const images = await memoryImages(pixels, { shape: [8, 8, 8, 3] });
      const model = createMaskGitVqgan({ hiddenChannels: 32, channelMult: [1, 1], numResBlocks: 1, zChannels: 8, numEmbeddings: 16, resolution: 8 }, { seed: 1 });
      const logs: LogRecord[] = [];
      await trainTokenizer(model, images, { steps: TOKENIZER_STEPS, batchSize: 4, lr: 3e-3, logEvery: 1, progressBar: false, seed: 5, onLog: (l) => logs.push(l) });
      model.dispose();
      return logs;
    });
    expectSameTraining(result, TOKENIZER_STEPS, 2);
    expect(tf.memory().numTensors).toBe(before);
  }, TIMEOUT);

  it('trainGenerator: a tiny MaskGIT trains to the same losses as on cpu or wasm', async () => {
    const before = tf.memory().numTensors;
    const r = prng(4);
    const examples = Array.from({ length: 64 }, (_, i) => ({ tokens: Int32Array.from({ length: 4 }, (_, j) => ((i % 2) * 3 + j + (r.next() < 0.1 ? 1 : 0)) % 8), label: i % 2 }));
    const tokens: Dataset<TokenExample> = { length: examples.length, get: async (i) => examples[i]! };
    const result = await onBothBackends(async () => {
      const generator = createMaskGIT({ codebookSize: 8, numClasses: 2, tokenShape: [4], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, dropout: 0, attnDrop: 0 }, { seed: 1 });
      const logs: LogRecord[] = [];
      await trainGenerator(generator, tokens, { steps: STEPS, batchSize: 16, lr: 1e-2, logEvery: 1, progressBar: false, seed: 5, onLog: (l) => logs.push(l) });
      generator.dispose();
      return logs;
    });
    expectSameTraining(result, STEPS);
    expect(tf.memory().numTensors).toBe(before);
  }, TIMEOUT);
});
