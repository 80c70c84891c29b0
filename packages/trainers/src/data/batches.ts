/**
 * Batches of a dataset, in a seeded order, with a position a checkpoint can keep: resuming from a saved
 * position yields exactly the batches the uninterrupted iterator yields from there. The next `prefetch`
 * batches are fetched and stacked (on the CPU) while the consumer works on the current one.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type SeededRandom, ValueError, assertNonNegativeInt, assertPositiveInt } from '@vtok/core';
import { type CollatedBatch, collate, toTensors } from './collate';
import type { Dataset, ImageExample, TokenExample } from './dataset';
import { assertSeed, epochOrder, exampleRandom } from './order';

/**
 * Where an iterator stands: `index` examples of epoch `epoch` (in that epoch's order) are behind it. Plain
 * JSON, to be saved in a checkpoint and passed back as `start`.
 */
export interface DataPosition {
  epoch: number;
  index: number;
}

/** A per-example random transform; `random` is keyed by (seed, epoch, dataset index), so it is reproducible. */
export type Augment<T> = (example: T, random: SeededRandom) => T | Promise<T>;

export interface BatchOptions<T> {
  batchSize: number;
  /** Seeds every epoch's order and every augmentation (default 0). */
  seed?: number;
  /** A new seeded permutation each epoch (default true); false keeps the dataset's order. */
  shuffle?: boolean;
  /** Skip an epoch's last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Batches fetched ahead while the consumer works (default 2; 0 fetches on demand). */
  prefetch?: number;
  /** The position to start from, as a yielded batch's `position` (default { epoch: 0, index: 0 }). */
  start?: DataPosition;
  /** How many epochs in all, counted from epoch 0 (default: no end). */
  epochs?: number;
  /** Applied to each example as it is fetched (random flips and crops). */
  augment?: Augment<T>;
}

interface BatchInfo {
  /** Dataset indices of the batch's examples, in batch order. */
  indices: number[];
  /** The position after this batch: pass it as `start` to continue with the next one. */
  position: DataPosition;
}

export interface ImageBatch extends BatchInfo {
  /** float32 [B, H, W, C]; the caller owns it. */
  images: tf.Tensor4D;
  /** int32 [B], when the dataset has labels; the caller owns it. */
  labels?: tf.Tensor1D;
}

export interface TokenBatch extends BatchInfo {
  /** int32 [B, L]; the caller owns it. */
  tokens: tf.Tensor2D;
  labels?: tf.Tensor1D;
}

const WHO = 'batches';

interface Planned {
  epoch: number;
  indices: number[];
  position: DataPosition;
}

/** The batches from `start` on, as dataset indices; each epoch's permutation is drawn once. */
function* plan(length: number, batchSize: number, seed: number, shuffle: boolean, dropLast: boolean, start: DataPosition, epochs: number): Generator<Planned> {
  let { epoch, index } = start;
  for (; epoch < epochs; epoch++, index = 0) {
    const fits = (from: number) => (dropLast ? length - from >= batchSize : from < length);
    if (!fits(index)) continue;
    const order = epochOrder(length, seed, epoch, shuffle);
    while (fits(index)) {
      const end = Math.min(index + batchSize, length);
      const position = fits(end) ? { epoch, index: end } : { epoch: epoch + 1, index: 0 };
      yield { epoch, indices: Array.from(order.subarray(index, end)), position };
      index = end;
    }
  }
}

function checkStart(start: unknown, length: number): DataPosition {
  if (start === undefined) return { epoch: 0, index: 0 };
  const s = start as Partial<DataPosition>;
  if (typeof start !== 'object' || start === null || !Number.isInteger(s.epoch) || !Number.isInteger(s.index) || s.epoch! < 0 || s.index! < 0 || s.index! > length) {
    throw new ValueError(`${WHO}: start must be a position { epoch, index } with integers epoch >= 0 and index in [0, ${length}] (the dataset's length), got ${JSON.stringify(start)}`);
  }
  return { epoch: s.epoch!, index: s.index! };
}

/** Image datasets give image batches, token datasets token batches; the generator owns nothing it yielded. */
export function batches(dataset: Dataset<ImageExample>, options: BatchOptions<ImageExample>): AsyncGenerator<ImageBatch, void, undefined>;
export function batches(dataset: Dataset<TokenExample>, options: BatchOptions<TokenExample>): AsyncGenerator<TokenBatch, void, undefined>;
export function batches<T extends ImageExample | TokenExample>(dataset: Dataset<T>, options: BatchOptions<T>): AsyncGenerator<ImageBatch | TokenBatch, void, undefined> {
  // Checked before the generator starts, so bad options throw at the call, not at the first next().
  const length = dataset?.length;
  assertPositiveInt(length, WHO, 'the dataset length');
  if (typeof dataset.get !== 'function') throw new ValueError(`${WHO}: the dataset must have a get(index) method`);
  const { batchSize, seed = 0, shuffle = true, dropLast = false, prefetch = 2, epochs = Infinity, augment } = options ?? ({} as BatchOptions<T>);
  assertPositiveInt(batchSize, WHO, 'batchSize');
  assertSeed(seed, WHO);
  assertNonNegativeInt(prefetch, WHO, 'prefetch');
  if (epochs !== Infinity) assertPositiveInt(epochs, WHO, 'epochs');
  if (dropLast && batchSize > length) throw new ValueError(`${WHO}: with dropLast, batchSize ${batchSize} is larger than the dataset (${length} examples), so no batch would ever come`);
  if (augment !== undefined && typeof augment !== 'function') throw new ValueError(`${WHO}: augment must be a function (example, random) => example, got ${typeof augment}`);
  const start = checkStart(options.start, length);
  return run(dataset, plan(length, batchSize, seed, shuffle, dropLast, start, epochs), seed, prefetch, augment);
}

async function fetchBatch<T>(dataset: Dataset<T>, planned: Planned, seed: number, augment: Augment<T> | undefined): Promise<CollatedBatch> {
  const examples = await Promise.all(
    planned.indices.map(async (i) => {
      const example = await dataset.get(i);
      return augment ? augment(example, exampleRandom(seed, planned.epoch, i)) : example;
    }),
  );
  return collate(examples, planned.indices);
}

async function* run<T>(dataset: Dataset<T>, planned: Generator<Planned>, seed: number, prefetch: number, augment: Augment<T> | undefined): AsyncGenerator<ImageBatch | TokenBatch, void, undefined> {
  const pending: { planned: Planned; batch: Promise<CollatedBatch> }[] = [];
  while (true) {
    // The head plus `prefetch` more in flight; after the head is taken, `prefetch` run on during the yield.
    while (pending.length < prefetch + 1) {
      const next = planned.next();
      if (next.done) break;
      const batch = fetchBatch(dataset, next.value, seed, augment);
      // Marked handled now: a batch that fails while the consumer holds another (or has left) must not
      // surface as an unhandled rejection; the failure is rethrown when that batch is awaited.
      batch.catch(() => undefined);
      pending.push({ planned: next.value, batch });
    }
    const head = pending.shift();
    if (!head) return;
    const collated = await head.batch;
    const { values, labels } = toTensors(collated);
    const info = { indices: head.planned.indices, position: { ...head.planned.position } };
    if (collated.kind === 'images') yield { images: values as tf.Tensor4D, ...(labels ? { labels } : {}), ...info };
    else yield { tokens: values as tf.Tensor2D, ...(labels ? { labels } : {}), ...info };
  }
}
