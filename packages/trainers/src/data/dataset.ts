/**
 * The dataset contract of the trainers: finite and indexed, so an epoch's order can be a seeded permutation
 * of indices and a saved position can be resumed exactly. Examples are plain CPU data; tensors are made only
 * when a batch is handed out (see batches.ts).
 */
import { ValueError } from '@vtok/core';

/** A finite, indexed collection of examples. `get` may be called concurrently and out of order. */
export interface Dataset<T> {
  readonly length: number;
  /** The example at `index` in [0, length). Callers must not mutate what it returns. */
  get(index: number): Promise<T>;
}

/** `[height, width, channels]` of one image. */
export type ImageShape = readonly [height: number, width: number, channels: number];

/**
 * One image, channels last (HWC, row-major), float32 in [0, 1]: the layout and range the tokenizers take
 * (`assertImages` in @vtok/core), before the batch axis is added.
 */
export interface ImageExample {
  image: Float32Array;
  shape: ImageShape;
  /** A class id (an integer >= 0), when the dataset has labels. */
  label?: number;
}

/** One image's token ids, flat (`L` = the product of the token shape), with its class when there is one. */
export interface TokenExample {
  tokens: Int32Array;
  label?: number;
}

/** Throws the ValueError every source gives for an index outside [0, length). */
export function assertIndex(index: number, length: number, who: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ValueError(`${who}: index must be an integer in [0, ${length - 1}], got ${String(index)}`);
  }
}

/** A class label: an integer >= 0. `where` names the example for the message. */
export function assertLabel(label: unknown, who: string, where: string): asserts label is number {
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0) {
    throw new ValueError(`${who}: the label of ${where} must be an integer >= 0, got ${String(label)}`);
  }
}

/** A dataset whose examples are `fn` applied to `dataset`'s (deterministic transforms: resize, crop). */
export function mapDataset<T, U>(dataset: Dataset<T>, fn: (example: T, index: number) => U | Promise<U>): Dataset<U> {
  return {
    length: dataset.length,
    get: async (index) => fn(await dataset.get(index), index),
  };
}
