/**
 * The CLI's helpers for library users, in-process and without models: readImages turns grayscale and RGBA
 * PNGs, JPEGs and WebPs into RGB float32 in [0, 1] (and names files it refuses), encodePng/writePng give back
 * the pixels, imageGrid and comparisonGrid put each image where they say, architectureOf recognises each
 * model package's config. No tensor is left behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MAGVIT2_PRESETS } from '@vtok/magvit2';
import { pretrainedSource } from '@vtok/zoo';
import { expectNoLeak, TITOK_L32_HUB_CONFIG } from '@vtok/test-utils';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, OutputError } from '../src/errors';
import { comparisonGrid, encodePng, imageGrid, readImages, writePng } from '../src/images';
import { architectureOf } from '../src/models';

const temp = mkdtempSync(join(tmpdir(), 'vtok-cli-images-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(join(temp, 'kinds'));
  // The same 2×2 picture in four encodings: grey levels 0, 85, 170, 255.
  const grey = Buffer.from([0, 85, 170, 255]);
  await sharp(grey, { raw: { width: 2, height: 2, channels: 1 } }).png().toFile(join(temp, 'kinds', 'a-grey.png'));
  const rgba = Buffer.from([0, 0, 0, 255, 85, 85, 85, 255, 170, 170, 170, 255, 255, 255, 255, 255]);
  await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } }).png().toFile(join(temp, 'kinds', 'b-rgba.png'));
  await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } }).webp({ lossless: true }).toFile(join(temp, 'kinds', 'c-lossless.webp'));
  await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } }).jpeg({ quality: 100 }).toFile(join(temp, 'kinds', 'd.jpg'));
  writeFileSync(join(temp, 'fake.png'), 'this is text with a .png name');
});

describe('readImages', () => {
  it('reads grayscale, RGBA, WebP and JPEG files of a folder, sorted, as RGB in [0, 1]', async () => {
    await expectNoLeak(async () => {
      const { images, files } = await readImages([join(temp, 'kinds')], { size: [2, 2] });
      expect(files.map((f) => f.slice(temp.length + 1))).toEqual(['kinds/a-grey.png', 'kinds/b-rgba.png', 'kinds/c-lossless.webp', 'kinds/d.jpg']);
      expect(images.shape).toEqual([4, 2, 2, 3]);
      const values = (await images.array()) as number[][][][];
      images.dispose();
      const expected = [0, 85, 170, 255].map((v) => v / 255);
      for (const image of values.slice(0, 3)) expect(image.flat().map((rgb) => rgb[1])).toEqual(expected.map((v) => Math.fround(v)));
      // JPEG is lossy even at quality 100: within a few levels.
      values[3].flat().forEach((rgb, i) => expect(Math.abs(rgb[0] - expected[i])).toBeLessThan(8 / 255));
    }, 'readImages');
  });

  it('refuses a file that is not an image and an image of the wrong size, naming them; resizes when asked', async () => {
    await expect(readImages([join(temp, 'fake.png')])).rejects.toThrow(InputError);
    await expect(readImages([join(temp, 'fake.png')])).rejects.toThrow(/fake\.png is not a PNG, JPEG or WebP image/);
    await expect(readImages([join(temp, 'kinds', 'd.jpg')], { size: [4, 4] })).rejects.toThrow(/d\.jpg is 2×2 pixels; the model takes 4×4 \(pass --resize/);
    await expect(readImages([join(temp, 'missing.png')])).rejects.toThrow(/cannot read .*missing\.png: no such file or folder/);
    const { images } = await readImages([join(temp, 'kinds', 'a-grey.png')], { size: [4, 6], resize: true });
    expect(images.shape).toEqual([1, 4, 6, 3]);
    images.dispose();
  });
});

describe('PNG out and grids', () => {
  it('encodes and writes the pixels it is given (clamped), atomically; an unwritable path is an OutputError', async () => {
    const image = tf.tensor3d([0, 0.5, 1, 2, -1, 0.25], [1, 2, 3]);
    await expectNoLeak(() => encodePng(image).then(() => undefined), 'encodePng');
    await writePng(join(temp, 'out', 'deep', 'x.png'), image);
    const { data, info } = await sharp(join(temp, 'out', 'deep', 'x.png')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([2, 1, 3]);
    expect([...data]).toEqual([0, 128, 255, 255, 0, 64]);
    expect(readdirSync(join(temp, 'out', 'deep'))).toEqual(['x.png']);
    writeFileSync(join(temp, 'a-file'), 'x');
    await expect(writePng(join(temp, 'a-file', 'x.png'), image)).rejects.toThrow(OutputError);
    await expect(writePng(join(temp, 'a-file', 'x.png'), image)).rejects.toThrow(/cannot write .*a-file\/x\.png/);
    image.dispose();
  });

  it('places image i at row i / columns, column i % columns, with gaps, padding the last row', async () => {
    const images = tf.tensor4d([1, 2, 3], [3, 1, 1, 1]);
    const tenfold = tf.tensor4d([10, 20, 30], [3, 1, 1, 1]);
    await expectNoLeak(async () => {
      const grid = imageGrid(images, 2, 1);
      expect(await grid.array()).toEqual([[[1], [0], [2]], [[0], [0], [0]], [[3], [0], [0]]]);
      grid.dispose();
      const pairs = comparisonGrid(images, tenfold, 2, 0);
      expect(await pairs.array()).toEqual([[[1], [2]], [[10], [20]], [[3], [0]], [[30], [0]]]);
      pairs.dispose();
    }, 'grids');
    tf.dispose([images, tenfold]);
  });
});

describe('architectureOf', () => {
  it("recognises each model package's config and nothing else", () => {
    const zoo = (name: string) => JSON.parse(readFileSync(join(String(pretrainedSource(name)), 'config.json'), 'utf8'));
    expect(architectureOf(zoo('digits-vqgan'))).toBe('maskgit-vqgan');
    expect(architectureOf(zoo('digits-maskgit'))).toBe('maskgit');
    // The TiTok repos' shared config.json: the weights decide.
    expect(architectureOf(TITOK_L32_HUB_CONFIG, ['encoder.conv1.weight', 'decoder.ln_post.bias'])).toBe('titok');
    expect(architectureOf(TITOK_L32_HUB_CONFIG, ['model.embeddings.word_embeddings.weight'])).toBe('maskgit');
    const { generator: _generator, ...tokenizerOnly } = TITOK_L32_HUB_CONFIG.model;
    expect(architectureOf({ ...TITOK_L32_HUB_CONFIG, model: tokenizerOnly })).toBe('titok');
    expect(architectureOf(MAGVIT2_PRESETS['imagenet-128-l'].config)).toBe('magvit2');
    for (const other of [undefined, null, [], 'config', {}, { model: {} }, { model: { vq_model: {} } }]) expect(architectureOf(other)).toBeUndefined();
    expect(existsSync(String(pretrainedSource('digits-vqgan')))).toBe(true);
  });
});
