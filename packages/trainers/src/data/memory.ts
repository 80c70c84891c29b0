/**
 * Images already in memory: a float32 tensor [N, H, W, C] in [0, 1], or a typed array with its shape
 * (uint8 pixels are divided by 255). The values are copied once, checked, and served from the CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, ShapeError, ValueError, assertTensor, formatShape } from '@vtok/core';
import { assertIndex, assertLabel, type Dataset, type ImageExample, type ImageShape } from './dataset';

export interface MemoryImagesOptions {
  /** [N, H, W, C]; required for typed arrays, taken from the tensor otherwise. */
  shape?: readonly [number, number, number, number];
  /** One class id per image (integers >= 0). */
  labels?: ArrayLike<number> | tf.Tensor;
}

export interface MemoryImages extends Dataset<ImageExample> {
  readonly shape: ImageShape;
}

const WHO = 'memoryImages';

async function readLabels(labels: MemoryImagesOptions['labels'], n: number): Promise<Int32Array | undefined> {
  if (labels === undefined) return undefined;
  let values: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    assertTensor(labels, WHO, 'labels');
    if (labels.rank !== 1) throw new ShapeError(`${WHO}: expected labels [N], got ${formatShape(labels.shape)}`);
    values = await labels.data();
  } else {
    values = labels;
  }
  if (typeof values?.length !== 'number' || values.length !== n) {
    throw new ShapeError(`${WHO}: expected one label per image (${n}), got ${typeof values?.length === 'number' ? values.length : typeof values}`);
  }
  for (let i = 0; i < n; i++) assertLabel(values[i], WHO, `image ${i}`);
  return Int32Array.from(values);
}

async function readPixels(images: unknown, shape: MemoryImagesOptions['shape']): Promise<{ data: Float32Array; shape: [number, number, number, number] }> {
  if (images instanceof tf.Tensor) {
    assertTensor(images, WHO, 'images');
    if (images.dtype !== 'float32') throw new DTypeError(`${WHO}: images must be float32 in [0, 1], got ${images.dtype} (divide uint8 pixels by 255)`);
    if (images.rank !== 4) throw new ShapeError(`${WHO}: expected images [N, H, W, C], got ${formatShape(images.shape)}`);
    return { data: (await images.data()) as Float32Array, shape: images.shape as [number, number, number, number] };
  }
  const isUint8 = images instanceof Uint8Array || images instanceof Uint8ClampedArray;
  if (!isUint8 && !(images instanceof Float32Array)) {
    throw new ValueError(`${WHO}: images must be a float32 tensor [N, H, W, C], a Float32Array or a Uint8Array, got ${images === null ? 'null' : ((images as object)?.constructor?.name ?? typeof images)}`);
  }
  const dims = shape as number[] | undefined;
  if (!Array.isArray(dims) || dims.length !== 4 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ShapeError(`${WHO}: a typed array needs options.shape [N, H, W, C] of positive integers, got ${dims === undefined ? 'none' : JSON.stringify(dims)}`);
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (images.length !== size) throw new ShapeError(`${WHO}: shape ${formatShape(dims)} needs ${size} values, the array has ${images.length}`);
  const data = isUint8 ? Float32Array.from(images, (v) => v / 255) : images.slice();
  return { data, shape: dims as [number, number, number, number] };
}

/** A dataset over in-memory images; the caller keeps ownership of tensors passed in. */
export async function memoryImages(images: tf.Tensor | Float32Array | Uint8Array | Uint8ClampedArray, options: MemoryImagesOptions = {}): Promise<MemoryImages> {
  const { data, shape } = await readPixels(images, options.shape);
  const [n, h, w, c] = shape;
  if (n < 1) throw new ShapeError(`${WHO}: expected at least one image, got shape ${formatShape(shape)}`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 1)) throw new ValueError(`${WHO}: image values must be finite and in [0, 1], got ${v} in image ${Math.floor(i / (h * w * c))}`);
  }
  const labels = await readLabels(options.labels, n);
  const size = h * w * c;
  const imageShape: ImageShape = [h, w, c];
  return {
    length: n,
    shape: imageShape,
    async get(index) {
      assertIndex(index, n, WHO);
      const image = data.slice(index * size, (index + 1) * size);
      return labels ? { image, shape: imageShape, label: labels[index] } : { image, shape: imageShape };
    },
  };
}
