/**
 * Stacking a batch's examples: first into CPU arrays (done ahead of time by prefetching, no tensors yet, so
 * an iterator the consumer leaves early has nothing to free), then into tensors when the batch is handed out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError, formatShape } from '@vtok/core';
import { assertLabel, type ImageExample, type TokenExample } from './dataset';

/** A batch stacked on the CPU. */
export type CollatedBatch =
  | { kind: 'images'; data: Float32Array; shape: [number, number, number, number]; labels?: Int32Array }
  | { kind: 'tokens'; data: Int32Array; shape: [number, number]; labels?: Int32Array };

const WHO = 'batches';

function collateLabels(examples: readonly (ImageExample | TokenExample)[], indices: readonly number[]): Int32Array | undefined {
  const labelled = examples.filter((e) => e.label !== undefined).length;
  if (labelled === 0) return undefined;
  if (labelled !== examples.length) {
    const i = examples.findIndex((e) => e.label === undefined);
    throw new ValueError(`${WHO}: either every example has a label or none has; dataset index ${indices[i]} has none, others have one`);
  }
  return Int32Array.from(examples, (e, i) => {
    assertLabel(e.label, WHO, `dataset index ${indices[i]}`);
    return e.label;
  });
}

function collateImages(examples: readonly ImageExample[], indices: readonly number[]): CollatedBatch {
  const shape = examples[0].shape;
  const size = shape[0] * shape[1] * shape[2];
  const data = new Float32Array(examples.length * size);
  examples.forEach((e, i) => {
    if (e.shape.length !== 3 || e.shape.some((d, k) => d !== shape[k])) {
      throw new ShapeError(
        `${WHO}: the images of one batch must have one shape; dataset index ${indices[i]} is ${formatShape(e.shape)}, index ${indices[0]} is ${formatShape(shape)} (resize or crop them to one size)`,
      );
    }
    if (!(e.image instanceof Float32Array) || e.image.length !== size) {
      const got = e.image instanceof Float32Array ? `${e.image.length} values` : String((e.image as unknown)?.constructor?.name ?? typeof e.image);
      throw new ShapeError(`${WHO}: dataset index ${indices[i]}: expected a Float32Array of ${size} values for shape ${formatShape(shape)}, got ${got}`);
    }
    data.set(e.image, i * size);
  });
  return { kind: 'images', data, shape: [examples.length, shape[0], shape[1], shape[2]], labels: collateLabels(examples, indices) };
}

function collateTokens(examples: readonly TokenExample[], indices: readonly number[]): CollatedBatch {
  const length = examples[0].tokens.length;
  const data = new Int32Array(examples.length * length);
  examples.forEach((e, i) => {
    if (!(e.tokens instanceof Int32Array) || e.tokens.length !== length) {
      const got = e.tokens instanceof Int32Array ? `${e.tokens.length} tokens` : String((e.tokens as unknown)?.constructor?.name ?? typeof e.tokens);
      throw new ShapeError(`${WHO}: the examples of one batch must hold Int32Arrays of one length; dataset index ${indices[i]} has ${got}, index ${indices[0]} has ${length}`);
    }
    data.set(e.tokens, i * length);
  });
  return { kind: 'tokens', data, shape: [examples.length, length], labels: collateLabels(examples, indices) };
}

/** Stacks image examples (`image`) or token examples (`tokens`); anything else is a ValueError. */
export function collate(examples: readonly unknown[], indices: readonly number[]): CollatedBatch {
  const first = examples[0] as Partial<ImageExample & TokenExample> | undefined;
  if (first && typeof first === 'object' && 'image' in first) return collateImages(examples as ImageExample[], indices);
  if (first && typeof first === 'object' && 'tokens' in first) return collateTokens(examples as TokenExample[], indices);
  const got = first === null ? 'null' : typeof first === 'object' ? `an object with keys ${Object.keys(first).join(', ') || '(none)'}` : typeof first;
  throw new ValueError(`${WHO}: dataset index ${indices[0]}: expected an example { image, shape, label? } or { tokens, label? }, got ${got}`);
}

/** The tensors of a collated batch; the caller owns them. */
export function toTensors(batch: CollatedBatch): { values: tf.Tensor; labels?: tf.Tensor1D } {
  const values = batch.kind === 'images' ? tf.tensor4d(batch.data, batch.shape, 'float32') : tf.tensor2d(batch.data, batch.shape, 'int32');
  const labels = batch.labels ? tf.tensor1d(batch.labels, 'int32') : undefined;
  return { values, labels };
}
