/**
 * One pass of a tokenizer (core's `Tokenizer` contract) over an image dataset, in dataset order, giving what
 * writeTokenDataset takes: the generator stage then trains on stored tokens instead of encoding every epoch.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  AbortError,
  type StepProgressEvent,
  type Tokenizer,
  ShapeError,
  ValueError,
  assertBatchShape,
  assertDtype,
  assertPositiveInt,
  formatShape,
} from '@vtok/core';
import { batches } from './batches';
import type { Dataset, ImageExample } from './dataset';
import type { TokenDatasetContent } from './token-dataset';

export interface TokenizeDatasetOptions {
  /** Recorded as `metadata.tokenizer`: the preset name, hub id or path of the tokenizer. */
  name: string;
  /** Images per encode call (default 32). */
  batchSize?: number;
  /** After each batch: `{ type: 'step', step, of, label: 'tokenize' }`. */
  onProgress?: (event: StepProgressEvent) => void;
  /** Stops between batches; the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

const WHO = 'tokenizeDataset';

export async function tokenizeDataset(tokenizer: Tokenizer, dataset: Dataset<ImageExample>, options: TokenizeDatasetOptions): Promise<TokenDatasetContent & { tokens: Int32Array }> {
  const { name, batchSize = 32, onProgress, signal } = options ?? ({} as TokenizeDatasetOptions);
  if (typeof name !== 'string' || !name) throw new ValueError(`${WHO}: options.name (the tokenizer's preset, hub id or path, stored with the tokens) must be a non-empty string, got ${JSON.stringify(name)}`);
  assertPositiveInt(batchSize, WHO, 'batchSize');
  const space = tokenizer?.tokens;
  if (!space || typeof tokenizer.encode !== 'function') throw new ValueError(`${WHO}: expected a Tokenizer (tokens, inputShape, encode), got ${typeof tokenizer}`);
  assertPositiveInt(dataset?.length, WHO, 'the dataset length');

  const expected = tokenizer.inputShape;
  const first = await dataset.get(0);
  if (expected && (first.shape.length !== expected.length || first.shape.some((d, i) => d !== expected[i]))) {
    throw new ShapeError(`${WHO}: the tokenizer takes images ${formatShape(expected)}, the dataset's are ${formatShape(first.shape)} (resize, crop or change channels first)`);
  }

  const L = space.shape.reduce((a, b) => a * b, 1);
  const n = dataset.length;
  const tokens = new Int32Array(n * L);
  const labels: number[] = [];
  const of = Math.ceil(n / batchSize);
  let step = 0;
  for await (const batch of batches(dataset, { batchSize, shuffle: false, epochs: 1, prefetch: 1 })) {
    let encoded: tf.Tensor | undefined;
    try {
      if (signal?.aborted) throw new AbortError(`${WHO} was aborted after ${step} of ${of} batches`);
      encoded = await tokenizer.encode(batch.images);
      assertDtype(encoded, 'int32', WHO, 'the tokenizer output', { note: 'ids' });
      const b = assertBatchShape(encoded, space.shape, WHO, 'the tokenizer output', { alternatives: [[L]] });
      if (b !== batch.indices.length) throw new ShapeError(`${WHO}: the tokenizer returned ${b} rows for ${batch.indices.length} images`);
      tokens.set((await encoded.data()) as Int32Array, step * batchSize * L);
      if (batch.labels) labels.push(...(await batch.labels.data()));
    } finally {
      tf.dispose([batch.images, batch.labels, encoded].filter((t): t is tf.Tensor => t !== undefined));
    }
    step += 1;
    onProgress?.({ type: 'step', step, of, label: 'tokenize' });
  }
  const metadata = { tokenizer: name, codebookSize: space.vocabSize, tokenShape: [...space.shape] };
  return labels.length ? { tokens, labels: Int32Array.from(labels), metadata } : { tokens, metadata };
}
