/** Images between the page and the models: files and drawings in, tensors out on canvases, token grids as text. */
import * as tf from '@tensorflow/tfjs-core';
import { type BrowserImage, browserImages } from '@vtok/trainers';

/** One image (an uploaded File, or the pad's ImageData) as float32 [1, size, size, 3] in [0, 1], centre-cropped and resized. */
export async function imageBatch(item: BrowserImage, size: number): Promise<tf.Tensor4D> {
  const { image } = await browserImages([item], { size }).get(0);
  return tf.tensor4d(image, [1, size, size, 3]);
}

/** Draws a float32 [1, H, W, 3] image in [0, 1] on a canvas, one canvas pixel per image pixel. */
export async function showImage(images: tf.Tensor, canvas: HTMLCanvasElement): Promise<void> {
  const [, height, width] = images.shape;
  const rgb = await images.data();
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) rgba[4 * p + c] = Math.round(rgb[3 * p + c] * 255);
    rgba[4 * p + 3] = 255;
  }
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')?.putImageData(new ImageData(rgba, width, height), 0, 0);
}

/** Columns of the token grid: the last axis of a 2D token shape; a flat sequence of a square length as a square. */
export function gridColumns(shape: readonly number[]): number {
  if (shape.length > 1) return shape[shape.length - 1];
  const side = Math.round(Math.sqrt(shape[0]));
  return side * side === shape[0] ? side : shape[0];
}

/** Token ids as rows of `columns`; `·` marks a position still masked (`maskId`). */
export function tokenGrid(ids: ArrayLike<number>, columns: number, maskId?: number): string {
  const cells = Array.from(ids, (id) => (id === maskId ? '·' : String(id)).padStart(3));
  const lines: string[] = [];
  for (let at = 0; at < cells.length; at += columns) lines.push(cells.slice(at, at + columns).join(' '));
  return lines.join('\n');
}
