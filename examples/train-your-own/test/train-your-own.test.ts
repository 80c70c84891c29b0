// The fine-tune on a folder unlike digits (colour gradients with stripes), tiny (8 steps), on wasm: the
// held-out PSNR rises, the tokens stay, the saved tokenizer loads back, and no tensor is left behind.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { loadMaskGitVqgan } from '@vtok/titok';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trainYourOwn } from '../src/train-your-own';

const temp = mkdtempSync(join(tmpdir(), 'vtok-train-your-own-'));
const images = join(temp, 'images');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(async () => {
  await wasm().activate();
  mkdirSync(images);
  for (let i = 0; i < 12; i++) {
    const pixels = Buffer.alloc(48 * 48 * 3);
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++) {
        const stripe = Math.floor((x + y * (i % 3)) / (4 + (i % 4))) % 2;
        pixels.set([(x * 5 + i * 20) % 256, (y * 5) % 256, stripe ? 220 : 40], (y * 48 + x) * 3);
      }
    }
    await sharp(pixels, { raw: { width: 48, height: 48, channels: 3 } }).png().toFile(join(images, `image-${String(i).padStart(2, '0')}.png`));
  }
});

it('raises the held-out PSNR of images unlike digits without changing their tokens', async () => {
  const before = tf.memory().numTensors;
  const out = join(temp, 'my-vqgan');
  const lines: string[] = [];
  const result = await trainYourOwn({ images, out, steps: 8, batchSize: 4, heldOut: 3, log: (l) => lines.push(l) });
  expect(tf.memory().numTensors).toBe(before);
  expect(result).toMatchObject({ trainImages: 9, heldOutImages: 3, steps: 8, tokensUnchanged: true });
  expect(result.psnrAfter - result.psnrBefore, lines.join('\n')).toBeGreaterThan(1);
  const saved = await loadMaskGitVqgan(out);
  expect(saved.tokens).toEqual({ vocabSize: 256, shape: [64] });
  saved.dispose();
});
