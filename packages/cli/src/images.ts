/**
 * Image files in and out (Node, sharp). `readImages` turns PNG/JPEG/WebP files and folders into float32
 * [B,H,W,3] in [0,1], the tokenizers' input; `encodePng`/`writePng` turn [H,W,3] in [0,1] back into PNG;
 * `imageGrid` lays a batch out as one picture. Images are resized only when asked: a wrong size is an
 * input error naming the file, its size and the size expected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { saveFile } from '@vtok/core';
import { imageFolder } from '@vtok/trainers';
import type { Sharp } from 'sharp';
import { fileErrorCode, InputError, OutputError } from './errors';

export interface ReadImagesOptions {
  /** [height, width] every image must have (or is resized to, with `resize`). */
  size?: readonly [number, number];
  /** Resize to `size` (scaled to cover it, centre kept) instead of refusing other sizes. */
  resize?: boolean;
}

export interface ReadImages {
  /** float32 [B,H,W,3] in [0,1]; the caller disposes it. */
  images: tf.Tensor4D;
  /** The files read, in batch order (a folder's images sorted by path). */
  files: string[];
}

async function loadSharp(): Promise<(input: string | Uint8Array, options?: object) => Sharp> {
  return (await import('sharp')).default as unknown as (input: string | Uint8Array, options?: object) => Sharp;
}

/** The image files named: files as they are, folders by their JPEG/PNG/WebP images (a folder's other files are an error). */
export async function listImageFiles(paths: readonly string[]): Promise<string[]> {
  const { stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw new InputError(`cannot read ${path}: ${fileErrorCode(error) === 'ENOENT' ? 'no such file or folder' : (error as Error).message}`);
    });
    if (info.isDirectory()) {
      // imageFolder sniffs every file by its first bytes and names the first that is not an image.
      const folder = await imageFolder(path).catch((error: unknown) => {
        throw new InputError((error as Error).message.replace(/^imageFolder: /, ''), { cause: error });
      });
      files.push(...folder.files.map((f) => join(path, f)));
    } else files.push(path);
  }
  if (!files.length) throw new InputError('no images were given');
  return files;
}

/** One image file as RGB bytes [H,W,3] (alpha dropped, grayscale made RGB, EXIF orientation applied). */
async function decodeImage(file: string, options: ReadImagesOptions): Promise<{ data: Uint8Array; height: number; width: number }> {
  const sharp = await loadSharp();
  let image = sharp(file).autoOrient();
  if (options.resize && options.size) {
    const [height, width] = options.size;
    image = image.resize({ width, height, fit: 'cover', position: 'centre', kernel: 'cubic' });
  }
  let decoded: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  try {
    decoded = await image.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (fileErrorCode(error)) throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
    throw new InputError(`${file} is not a PNG, JPEG or WebP image (${(error as Error).message})`, { cause: error });
  }
  const { data, info } = decoded;
  if (info.channels !== 3) throw new InputError(`${file} decodes to ${info.channels} channels; expected RGB`);
  if (options.size && (info.height !== options.size[0] || info.width !== options.size[1])) {
    throw new InputError(
      `${file} is ${info.width}×${info.height} pixels; the model takes ${options.size[1]}×${options.size[0]} (pass --resize to scale it)`,
    );
  }
  return { data, height: info.height, width: info.width };
}

/** Reads images (files and folders) into one float32 [B,H,W,3] batch in [0,1]. Without `size`, all must share the first one's size. */
export async function readImages(paths: readonly string[], options: ReadImagesOptions = {}): Promise<ReadImages> {
  const files = await listImageFiles(paths);
  const first = await decodeImage(files[0], options);
  const size = options.size ?? ([first.height, first.width] as const);
  const pixels = size[0] * size[1] * 3;
  const values = new Float32Array(files.length * pixels);
  for (let i = 0; i < files.length; i++) {
    const { data } = i === 0 ? first : await decodeImage(files[i], { ...options, size });
    const at = i * pixels;
    for (let j = 0; j < pixels; j++) values[at + j] = data[j] / 255;
  }
  return { images: tf.tensor4d(values, [files.length, size[0], size[1], 3]), files };
}

/** PNG bytes of one image, float32 [H,W,3] (or [H,W,1]) in [0,1]; values outside are clamped. */
export async function encodePng(image: tf.Tensor3D): Promise<Uint8Array> {
  if (image.rank !== 3 || (image.shape[2] !== 3 && image.shape[2] !== 1)) {
    throw new InputError(`encodePng takes one image [height, width, 3], got shape [${image.shape.join(', ')}]`);
  }
  const [height, width, channels] = image.shape;
  const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(tf.clipByValue(tf.cast(image, 'float32'), 0, 1), 255)), 'int32'));
  const data = Uint8Array.from(await bytes.data());
  bytes.dispose();
  const sharp = await loadSharp();
  return new Uint8Array(await sharp(data, { raw: { width, height, channels } }).png().toBuffer());
}

/** Writes one image as a PNG file, atomically (the file holds the old content or the new, never half); parent folders are created. */
export async function writePng(path: string, image: tf.Tensor3D): Promise<void> {
  const png = await encodePng(image);
  try {
    await saveFile(path, png);
  } catch (error) {
    throw new OutputError(path, (error as Error).message.replace(/^saving to .* failed: /, ''), { cause: error });
  }
}

/**
 * One picture of a batch [B,H,W,C]: `columns` images per row, rows filled in batch order, the last row
 * padded with black, `gap` black pixels between images.
 */
export function imageGrid(images: tf.Tensor4D, columns: number, gap = 0): tf.Tensor3D {
  const [count, height, width, channels] = images.shape;
  if (!Number.isInteger(columns) || columns < 1) throw new InputError(`imageGrid: columns must be a positive integer, got ${columns}`);
  if (!Number.isInteger(gap) || gap < 0) throw new InputError(`imageGrid: gap must be a non-negative integer, got ${gap}`);
  const rows = Math.ceil(count / columns);
  return tf.tidy(() => {
    const cells = tf.pad(images, [[0, rows * columns - count], [0, gap], [0, gap], [0, 0]]);
    const h = height + gap;
    const w = width + gap;
    const grid = tf.reshape(tf.transpose(tf.reshape(cells, [rows, columns, h, w, channels]), [0, 2, 1, 3, 4]), [rows * h, columns * w, channels]);
    // Drop the gap after the last row and column.
    return tf.slice(grid, [0, 0, 0], [rows * h - gap, columns * w - gap, channels]) as tf.Tensor3D;
  });
}

/** Rows of `columns` originals, each row followed by the row of their reconstructions (a short last pair padded). */
export function comparisonGrid(originals: tf.Tensor4D, reconstructions: tf.Tensor4D, columns: number, gap = 1): tf.Tensor3D {
  return tf.tidy(() => {
    const count = originals.shape[0];
    const rows: tf.Tensor4D[] = [];
    for (let at = 0; at < count; at += columns) {
      const n = Math.min(columns, count - at);
      rows.push(tf.slice(originals, [at, 0, 0, 0], [n, -1, -1, -1]), tf.slice(reconstructions, [at, 0, 0, 0], [n, -1, -1, -1]));
      // Pad a short last row so every row has `columns` cells.
      if (n < columns) for (const k of [rows.length - 2, rows.length - 1]) rows[k] = tf.pad(rows[k], [[0, columns - n], [0, 0], [0, 0], [0, 0]]);
    }
    return imageGrid(tf.concat(rows, 0) as tf.Tensor4D, columns, gap);
  });
}
