// imageFolder on a temporary folder of PNG, JPEG and WebP files made with sharp here: decoding, grayscale to
// RGB, resizing and cropping, labels from subfolders, files that are not images.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '@vtok/core';
import { expectError, expectNoLeak } from '@vtok/test-utils';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batches, imageFolder } from '../src';

/** w×h RGB bytes whose value at (y, x, k) is f(y, x, k). */
const rgbBytes = (w: number, h: number, f: (y: number, x: number, k: number) => number) =>
  Uint8Array.from({ length: w * h * 3 }, (_, i) => f(Math.floor(i / (w * 3)), Math.floor(i / 3) % w, i % 3));

const raw = (data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4) => sharp(data, { raw: { width, height, channels } });

let root: string;
// cats/a.png: 6×4 RGB gradient; cats/b.jpg: 6×4 flat colour; dogs/c.webp: lossless 6×4; dogs/sub/d.png: 4×4 grayscale.
const A = rgbBytes(6, 4, (y, x, k) => (y * 40 + x * 7 + k * 60) % 256);
const GRAY = Uint8Array.from({ length: 16 }, (_, i) => i * 16);
const C = rgbBytes(6, 4, (_, x, k) => (x < 2 || x >= 4 ? 0 : [128, 255, 128][k]));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vtok-image-folder-'));
  for (const dir of ['cats', 'dogs/sub', 'loose']) mkdirSync(join(root, 'tree', dir), { recursive: true });
  const tree = join(root, 'tree');
  await raw(A, 6, 4, 3).png().toFile(join(tree, 'cats', 'a.png'));
  await raw(rgbBytes(6, 4, (_, __, k) => [200, 100, 50][k]), 6, 4, 3).jpeg({ quality: 95 }).toFile(join(tree, 'cats', 'b.jpg'));
  await raw(C, 6, 4, 3).webp({ lossless: true }).toFile(join(tree, 'dogs', 'c.webp'));
  await raw(GRAY, 4, 4, 1).png().toFile(join(tree, 'dogs', 'sub', 'd.png'));
  writeFileSync(join(tree, '.DS_Store'), 'hidden files are left out');
  // A folder with a text file among the images.
  mkdirSync(join(root, 'mixed'));
  await raw(A, 6, 4, 3).png().toFile(join(root, 'mixed', 'a.png'));
  writeFileSync(join(root, 'mixed', 'notes.txt'), 'not an image');
  // A PNG signature followed by garbage: recognised by its first bytes, fails when decoded.
  mkdirSync(join(root, 'broken'));
  writeFileSync(join(root, 'broken', 'x.png'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5]));
  // Labels need every image in a class folder.
  mkdirSync(join(root, 'unlabelled', 'class'), { recursive: true });
  await raw(GRAY, 4, 4, 1).png().toFile(join(root, 'unlabelled', 'top.png'));
  await raw(GRAY, 4, 4, 1).png().toFile(join(root, 'unlabelled', 'class', 'in.png'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('imageFolder', () => {
  it('finds the images recursively in sorted order and decodes them to float32 HWC in [0, 1], grayscale as RGB', async () => {
    const data = await imageFolder(join(root, 'tree'));
    expect(data.files).toEqual(['cats/a.png', 'cats/b.jpg', 'dogs/c.webp', 'dogs/sub/d.png']);
    expect(data.length).toBe(4);
    expect(data.skipped).toEqual([]);
    expect(data.classes).toBeUndefined();
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map((i) => data.get(i)));
    // PNG and lossless WebP: exact.
    expect(a.shape).toEqual([4, 6, 3]);
    expect(Array.from(a.image)).toEqual(Array.from(A, (v) => Math.fround(v / 255)));
    expect(Array.from(c.image)).toEqual(Array.from(C, (v) => Math.fround(v / 255)));
    // JPEG: lossy, close to the flat colour.
    expect(b.shape).toEqual([4, 6, 3]);
    for (let i = 0; i < b.image.length; i++) expect(Math.abs(b.image[i] - [200, 100, 50][i % 3] / 255)).toBeLessThan(4 / 255);
    // The grayscale PNG: three equal channels.
    expect(d.shape).toEqual([4, 4, 3]);
    expect(Array.from(d.image)).toEqual(Array.from(GRAY).flatMap((v) => [v, v, v].map((g) => Math.fround(g / 255))));
    expect(a.label).toBeUndefined();
  });

  it('channels 1 makes everything grayscale; labels number the top-level subfolders in sorted order', async () => {
    const data = await imageFolder(join(root, 'tree'), { channels: 1, labels: true });
    expect(data.classes).toEqual(['cats', 'dogs']);
    const examples = await Promise.all([0, 1, 2, 3].map((i) => data.get(i)));
    expect(examples.map((e) => e.label)).toEqual([0, 0, 1, 1]);
    expect(examples.map((e) => e.shape)).toEqual([
      [4, 6, 1],
      [4, 6, 1],
      [4, 6, 1],
      [4, 4, 1],
    ]);
    expect(Array.from(examples[3].image)).toEqual(Array.from(GRAY, (v) => Math.fround(v / 255)));
  });

  it("center-crop keeps the middle (the 6×4 WebP's middle columns), exact stretches, shorter-side keeps the aspect ratio", async () => {
    const cropped = await imageFolder(join(root, 'tree'), { size: 4 });
    const c = await cropped.get(2);
    expect(c.shape).toEqual([4, 4, 3]);
    // Only columns 2 and 3 of the source are coloured; the crop holds columns 1 to 4.
    const column = (x: number) => Array.from(c.image.subarray(x * 3, x * 3 + 3)).map((v) => Math.round(v * 255));
    expect(column(1)).toEqual([128, 255, 128]);
    expect(column(2)).toEqual([128, 255, 128]);
    expect(column(0)).toEqual([0, 0, 0]);
    expect(column(3)).toEqual([0, 0, 0]);
    const exact = await imageFolder(join(root, 'tree'), { size: [3, 5], fit: 'exact' });
    expect((await exact.get(0)).shape).toEqual([3, 5, 3]);
    const shorter = await imageFolder(join(root, 'tree'), { size: 2, fit: 'shorter-side' });
    expect((await shorter.get(0)).shape).toEqual([2, 3, 3]);
    expect((await shorter.get(3)).shape).toEqual([2, 2, 3]);
  });

  it('batches a resized folder into float32 [B, 4, 4, 3] in [0, 1] with labels, and leaks nothing', async () => {
    const data = await imageFolder(join(root, 'tree'), { size: 4, labels: true });
    await expectNoLeak(async () => {
      const out: tf.Tensor[] = [];
      for await (const b of batches(data, { batchSize: 3, seed: 1, epochs: 1 })) {
        expect(b.images.shape.slice(1)).toEqual([4, 4, 3]);
        const values = await b.images.data();
        expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...values)).toBeLessThanOrEqual(1);
        out.push(b.images, b.labels!);
      }
      // Images and labels of a batch of 3, then of the last 1.
      expect(out.map((t) => t.shape[0])).toEqual([3, 3, 1, 1]);
      return out;
    }, 'imageFolder batches');
  });

  it('a file that is not an image is a ValueError naming it, or is skipped and reported', async () => {
    const notes = join(root, 'mixed', 'notes.txt');
    await expectError(() => imageFolder(join(root, 'mixed')), ValueError, `${notes} is not a JPEG, PNG or WebP image (its first bytes: 6e 6f 74 20 61 6e 20 69); remove it, or pass { invalid: 'skip' }`);
    const data = await imageFolder(join(root, 'mixed'), { invalid: 'skip' });
    expect(data.files).toEqual(['a.png']);
    expect(data.skipped).toEqual([{ file: 'notes.txt', reason: 'not a JPEG, PNG or WebP image (its first bytes: 6e 6f 74 20 61 6e 20 69)' }]);
  });

  it('an image that cannot be decoded is a ValueError naming the file when it is fetched', async () => {
    const data = await imageFolder(join(root, 'broken'));
    await expectError(() => data.get(0), ValueError, `imageFolder: cannot decode ${join(root, 'broken', 'x.png')}`);
  });

  it('bad arguments are typed errors', async () => {
    await expectError(() => imageFolder(join(root, 'unlabelled'), { labels: true }), ValueError, `every image must be in a class subfolder; ${join(root, 'unlabelled', 'top.png')} is at the top level`);
    await expectError(() => imageFolder(join(root, 'nowhere')), ValueError, /nowhere is not a folder \(it does not exist\)/);
    await expectError(() => imageFolder(join(root, 'tree', 'cats', 'a.png')), ValueError, /a\.png is not a folder$/);
    await expectError(() => imageFolder(join(root, 'tree'), { size: [4, 4], fit: 'shorter-side' }), ValueError, /fit 'shorter-side' takes one number/);
    await expectError(() => imageFolder(join(root, 'tree'), { size: 0 }), ValueError, /size must be a positive integer/);
    await expectError(() => imageFolder(join(root, 'tree'), { channels: 4 as 3 }), ValueError, /channels must be 1 or 3, got 4/);
    await expectError(() => imageFolder(join(root, 'tree'), { fit: 'contain' as 'exact' }), ValueError, /fit must be one of 'exact', 'center-crop', 'shorter-side', got "contain"/);
    await expectError(() => imageFolder(join(root, 'tree'), { kernel: 'box' as 'cubic' }), ValueError, /kernel must be one of/);
    const data = await imageFolder(join(root, 'tree'));
    await expectError(() => data.get(4), ValueError, /index must be an integer in \[0, 3\], got 4/);
  });
});
