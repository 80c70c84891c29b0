/**
 * A folder of JPEG, PNG and WebP images (Node), decoded and resized with sharp (an optional peer dependency,
 * imported on first use). Files are found recursively, in sorted order, and recognised by their first bytes;
 * hidden files and folders (a leading dot) are left out. With `labels`, each image's class is its top-level
 * subfolder, classes numbered in sorted order (torchvision's ImageFolder rule).
 */
import { ConfigError, ValueError, isNode, nodeModule } from '@vtok/core';
import { assertIndex, type Dataset, type ImageExample } from './dataset';
import { describeHead, IMAGE_HEAD_BYTES, sniffImageFormat } from './image-format';
import { importOptional } from './optional';
import type { ImageSize } from './transforms';

/**
 * How images reach `size`: `exact` stretches to it, `center-crop` resizes the shorter side to cover it and
 * keeps the centre (the recipes' evaluation transform), `shorter-side` only resizes the shorter side to
 * `size` (a number), leaving the rest to a `randomCrop` augment (their training transform).
 */
export type FolderFit = 'exact' | 'center-crop' | 'shorter-side';

/** sharp's resampling kernels. */
export type SharpKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

export interface ImageFolderOptions {
  /** Output size; images keep their own size when left out (then a batch needs them all alike). */
  size?: ImageSize;
  /** Default 'center-crop'. */
  fit?: FolderFit;
  /** 3 (default): grayscale images become RGB; 1: everything becomes grayscale. Alpha is dropped. */
  channels?: 1 | 3;
  /** Labels from the top-level subfolder names (default false). */
  labels?: boolean;
  /** A file that is not a JPEG, PNG or WebP image: 'error' (default) or 'skip' (listed in `skipped`). */
  invalid?: 'error' | 'skip';
  /** Default 'cubic' (the recipes' bicubic). */
  kernel?: SharpKernel;
}

export interface ImageFolder extends Dataset<ImageExample> {
  /** The folder, as given. */
  readonly root: string;
  /** The images, relative to `root` with '/' separators, in dataset order. */
  readonly files: readonly string[];
  /** Class names by label, when `labels` is on. */
  readonly classes?: readonly string[];
  /** Files left out by `invalid: 'skip'`, with why. */
  readonly skipped: readonly { file: string; reason: string }[];
}

const WHO = 'imageFolder';
const FITS: readonly FolderFit[] = ['exact', 'center-crop', 'shorter-side'];
const KERNELS: readonly SharpKernel[] = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];
// Files sniffed at once while listing: enough to hide latency, few enough to stay under open-file limits.
const SNIFF_CONCURRENCY = 32;

/** The parts of sharp this module uses. */
interface SharpPipeline {
  autoOrient(): SharpPipeline;
  resize(options: { width: number; height: number; fit: string; position: string; kernel: string }): SharpPipeline;
  greyscale(): SharpPipeline;
  toColourspace(space: string): SharpPipeline;
  removeAlpha(): SharpPipeline;
  raw(options: { depth: 'uchar' }): SharpPipeline;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
}
type SharpFunction = (input: string) => SharpPipeline;

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

interface Settings {
  size?: [number, number];
  fit: FolderFit;
  channels: 1 | 3;
  labels: boolean;
  invalid: 'error' | 'skip';
  kernel: SharpKernel;
}

function settingsOf(options: ImageFolderOptions): Settings {
  const { size, fit = 'center-crop', channels = 3, labels = false, invalid = 'error', kernel = 'cubic' } = options;
  if (!FITS.includes(fit)) throw new ValueError(`${WHO}: fit must be one of ${FITS.map((f) => `'${f}'`).join(', ')}, got ${JSON.stringify(fit)}`);
  if (channels !== 1 && channels !== 3) throw new ValueError(`${WHO}: channels must be 1 or 3, got ${JSON.stringify(channels)}`);
  if (typeof labels !== 'boolean') throw new ValueError(`${WHO}: labels must be true or false, got ${JSON.stringify(labels)}`);
  if (invalid !== 'error' && invalid !== 'skip') throw new ValueError(`${WHO}: invalid must be 'error' or 'skip', got ${JSON.stringify(invalid)}`);
  if (!KERNELS.includes(kernel)) throw new ValueError(`${WHO}: kernel must be one of ${KERNELS.join(', ')}, got ${JSON.stringify(kernel)}`);
  if (size === undefined) return { fit, channels, labels, invalid, kernel };
  const pair = typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 2 ? [...size] : [];
  if (pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ValueError(`${WHO}: size must be a positive integer or [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  if (fit === 'shorter-side' && typeof size !== 'number') throw new ValueError(`${WHO}: fit 'shorter-side' takes one number, the shorter side's length, got ${JSON.stringify(size)}`);
  return { size: pair as [number, number], fit, channels, labels, invalid, kernel };
}

/** Every non-hidden file below `dir`, relative with '/' separators, sorted. */
async function listFiles(fs: Fs, path: Path, root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      const stat = entry.isSymbolicLink() ? await fs.stat(path.join(root, child)) : entry;
      if (stat.isDirectory()) await walk(child);
      else if (stat.isFile()) out.push(child);
    }
  };
  await walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function readHead(fs: Fs, file: string): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const head = new Uint8Array(IMAGE_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, IMAGE_HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The files whose first bytes are a JPEG, PNG or WebP image, and the others with why. */
async function sniffAll(fs: Fs, path: Path, root: string, files: string[]): Promise<{ images: string[]; others: { file: string; reason: string }[] }> {
  const verdicts: (string | undefined)[] = new Array(files.length);
  for (let at = 0; at < files.length; at += SNIFF_CONCURRENCY) {
    await Promise.all(
      files.slice(at, at + SNIFF_CONCURRENCY).map(async (file, k) => {
        const head = await readHead(fs, path.join(root, file));
        verdicts[at + k] = sniffImageFormat(head) ? undefined : `not a JPEG, PNG or WebP image (its first bytes: ${describeHead(head)})`;
      }),
    );
  }
  return {
    images: files.filter((_, i) => verdicts[i] === undefined),
    others: files.flatMap((file, i) => (verdicts[i] === undefined ? [] : [{ file, reason: verdicts[i]! }])),
  };
}

function pipeline(sharp: SharpFunction, file: string, s: Settings): SharpPipeline {
  let image = sharp(file).autoOrient();
  if (s.size) {
    const [height, width] = s.size;
    const fit = s.fit === 'exact' ? 'fill' : s.fit === 'center-crop' ? 'cover' : 'outside';
    image = image.resize({ width, height, fit, position: 'centre', kernel: s.kernel });
  }
  image = s.channels === 1 ? image.greyscale() : image.toColourspace('srgb');
  return image.removeAlpha().raw({ depth: 'uchar' });
}

/** A dataset over the images of a folder (Node, with sharp installed). */
export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
  if (!isNode()) throw new ConfigError(`${WHO} reads folders in Node; in a browser use browserImages with the user's File objects`);
  if (typeof root !== 'string' || !root) throw new ValueError(`${WHO}: root must be a folder path, got ${JSON.stringify(root)}`);
  const settings = settingsOf(options);
  const sharp = await importOptional<SharpFunction>('sharp', WHO);
  const fs = await nodeModule<Fs>('node:fs/promises');
  const path = await nodeModule<Path>('node:path');
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new ValueError(`${WHO}: ${path.resolve(root)} is not a folder${stat ? '' : ' (it does not exist)'}`);

  const { images, others } = await sniffAll(fs, path, root, await listFiles(fs, path, root));
  if (others.length && settings.invalid === 'error') {
    const { file, reason } = others[0];
    const more = others.length > 1 ? ` (and ${others.length - 1} more such file${others.length > 2 ? 's' : ''})` : '';
    throw new ValueError(`${WHO}: ${path.join(root, file)} is ${reason}${more}; remove it, or pass { invalid: 'skip' } to leave such files out`);
  }
  if (images.length === 0) throw new ValueError(`${WHO}: ${path.resolve(root)} holds no JPEG, PNG or WebP image`);

  let classes: string[] | undefined;
  let labels: Int32Array | undefined;
  if (settings.labels) {
    const loose = images.find((f) => !f.includes('/'));
    if (loose) throw new ValueError(`${WHO}: with labels, every image must be in a class subfolder; ${path.join(root, loose)} is at the top level`);
    classes = [...new Set(images.map((f) => f.slice(0, f.indexOf('/'))))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const labelOf = new Map(classes.map((c, i) => [c, i]));
    labels = Int32Array.from(images, (f) => labelOf.get(f.slice(0, f.indexOf('/')))!);
  }

  return {
    root,
    files: images,
    classes,
    skipped: others,
    length: images.length,
    async get(index) {
      assertIndex(index, images.length, WHO);
      const file = path.join(root, images[index]);
      let decoded: Awaited<ReturnType<SharpPipeline['toBuffer']>>;
      try {
        decoded = await pipeline(sharp, file, settings).toBuffer({ resolveWithObject: true });
      } catch (error) {
        throw new ValueError(`${WHO}: cannot decode ${file}: ${(error as Error).message}`);
      }
      const { data, info } = decoded;
      const image = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) image[i] = data[i] / 255;
      const example: ImageExample = { image, shape: [info.height, info.width, info.channels] };
      if (labels) example.label = labels[index];
      return example;
    },
  };
}
