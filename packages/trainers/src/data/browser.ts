/**
 * Images in a browser (or a worker): `File`s / `Blob`s (a `FileList` from an `<input type="file">`),
 * `ImageBitmap`s or `ImageData`, decoded when fetched with `createImageBitmap` (which also crops and
 * resizes, `resizeQuality: 'high'`) and read back through an `OffscreenCanvas`.
 */
import { ConfigError, ValueError } from '@vtok/core';
import { assertIndex, assertLabel, type Dataset, type ImageExample } from './dataset';
import type { FolderFit } from './folder';
import type { ImageSize } from './transforms';

export type BrowserImage = Blob | ImageBitmap | ImageData;

export interface BrowserImagesOptions {
  /** Output size; images keep their own size when left out. */
  size?: ImageSize;
  /** As for image folders: 'exact', 'center-crop' (default) or 'shorter-side' (size a number). */
  fit?: FolderFit;
  /** 3 (default) or 1 (luma, 0.299 R + 0.587 G + 0.114 B). Alpha is dropped. */
  channels?: 1 | 3;
  /** One class id per image. */
  labels?: ArrayLike<number>;
}

const WHO = 'browserImages';

const describe = (item: BrowserImage, index: number) => ((item as File).name ? `"${(item as File).name}" (item ${index})` : `item ${index}`);

/** The source rectangle and output size for an image of w×h. */
function geometry(w: number, h: number, size: [number, number] | undefined, fit: FolderFit): { sx: number; sy: number; sw: number; sh: number; ow: number; oh: number } {
  if (!size) return { sx: 0, sy: 0, sw: w, sh: h, ow: w, oh: h };
  const [oh, ow] = size;
  if (fit === 'exact') return { sx: 0, sy: 0, sw: w, sh: h, ow, oh };
  if (fit === 'shorter-side') {
    const s = oh / Math.min(w, h);
    return { sx: 0, sy: 0, sw: w, sh: h, ow: w <= h ? oh : Math.round(w * s), oh: h <= w ? oh : Math.round(h * s) };
  }
  // center-crop: the largest centred window of the output's aspect ratio, then scaled.
  const s = Math.max(ow / w, oh / h);
  const sw = Math.min(w, Math.round(ow / s));
  const sh = Math.min(h, Math.round(oh / s));
  return { sx: Math.floor((w - sw) / 2), sy: Math.floor((h - sh) / 2), sw, sh, ow, oh };
}

function checkOptions(items: unknown, options: BrowserImagesOptions): { size?: [number, number]; fit: FolderFit; channels: 1 | 3 } {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new ConfigError(`${WHO} needs createImageBitmap and OffscreenCanvas (a browser or a worker); in Node use imageFolder or memoryImages`);
  }
  if (typeof (items as ArrayLike<unknown>)?.length !== 'number') throw new ValueError(`${WHO}: expected a list of File, Blob, ImageBitmap or ImageData, got ${typeof items}`);
  const { size, fit = 'center-crop', channels = 3 } = options;
  if (fit !== 'exact' && fit !== 'center-crop' && fit !== 'shorter-side') throw new ValueError(`${WHO}: fit must be 'exact', 'center-crop' or 'shorter-side', got ${JSON.stringify(fit)}`);
  if (channels !== 1 && channels !== 3) throw new ValueError(`${WHO}: channels must be 1 or 3, got ${JSON.stringify(channels)}`);
  if (size === undefined) return { fit, channels };
  const pair = typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 2 ? [...size] : [];
  if (pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d >= 1)) throw new ValueError(`${WHO}: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`);
  if (fit === 'shorter-side' && typeof size !== 'number') throw new ValueError(`${WHO}: fit 'shorter-side' takes one number, got ${JSON.stringify(size)}`);
  return { size: pair as [number, number], fit, channels };
}

async function toBitmap(item: BrowserImage, index: number): Promise<ImageBitmap> {
  const ok = (typeof Blob !== 'undefined' && item instanceof Blob) || (typeof ImageBitmap !== 'undefined' && item instanceof ImageBitmap) || (typeof ImageData !== 'undefined' && item instanceof ImageData);
  if (!ok) throw new ValueError(`${WHO}: item ${index} must be a File, Blob, ImageBitmap or ImageData, got ${(item as object)?.constructor?.name ?? typeof item}`);
  if (item instanceof ImageBitmap) return item;
  try {
    return await createImageBitmap(item);
  } catch (error) {
    throw new ValueError(`${WHO}: ${describe(item, index)} cannot be decoded as an image${item instanceof Blob && item.type ? ` (type ${item.type})` : ''}: ${(error as Error).message}`);
  }
}

/** A dataset over browser images; the items stay the caller's (ImageBitmaps are not closed). */
export function browserImages(items: ArrayLike<BrowserImage>, options: BrowserImagesOptions = {}): Dataset<ImageExample> {
  const { size, fit, channels } = checkOptions(items, options);
  const list = Array.from(items);
  if (list.length === 0) throw new ValueError(`${WHO}: expected at least one image, got an empty list`);
  let labels: Int32Array | undefined;
  if (options.labels !== undefined) {
    if (options.labels.length !== list.length) throw new ValueError(`${WHO}: expected one label per image (${list.length}), got ${options.labels.length}`);
    for (let i = 0; i < list.length; i++) assertLabel(options.labels[i], WHO, `item ${i}`);
    labels = Int32Array.from(options.labels);
  }
  return {
    length: list.length,
    async get(index) {
      assertIndex(index, list.length, WHO);
      const item = list[index];
      const source = await toBitmap(item, index);
      const g = geometry(source.width, source.height, size, fit);
      const scaled = await createImageBitmap(source, g.sx, g.sy, g.sw, g.sh, { resizeWidth: g.ow, resizeHeight: g.oh, resizeQuality: 'high' });
      if (source !== item) source.close();
      const canvas = new OffscreenCanvas(g.ow, g.oh);
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (!context) throw new ConfigError(`${WHO}: this browser gave no 2D context for an OffscreenCanvas`);
      context.drawImage(scaled, 0, 0);
      scaled.close();
      const rgba = context.getImageData(0, 0, g.ow, g.oh).data;
      const pixels = g.ow * g.oh;
      const image = new Float32Array(pixels * channels);
      for (let p = 0; p < pixels; p++) {
        const [r, gr, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
        if (channels === 1) image[p] = (0.299 * r + 0.587 * gr + 0.114 * b) / 255;
        else [image[3 * p], image[3 * p + 1], image[3 * p + 2]] = [r / 255, gr / 255, b / 255];
      }
      const example: ImageExample = { image, shape: [g.oh, g.ow, channels] };
      if (labels) example.label = labels[index];
      return example;
    },
  };
}
