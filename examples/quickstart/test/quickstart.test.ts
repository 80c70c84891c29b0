// The quickstart end to end at a small size, on wasm: the zoo models load by name, four digits become 64
// tokens (64 bytes) each and come back near the card's PSNR, ten digits are generated, two PNGs are written.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runQuickstart } from '../src/quickstart';

const out = mkdtempSync(join(tmpdir(), 'vtok-quickstart-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
beforeAll(async () => {
  await wasm().activate();
});

it('encodes, decodes and generates digits with the zoo models and writes the PNGs, leaving no tensor behind', async () => {
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  const result = await runQuickstart({ out, digits: 4, log: (l) => lines.push(l) });
  expect(tf.memory().numTensors).toBe(before);
  expect(result.tokensPerImage).toBe(64);
  expect(result.bytesPerImage).toBe(64);
  expect(result.firstTokens.every((t) => Number.isInteger(t) && t >= 0 && t < 256)).toBe(true);
  // Four digits scatter more than 500 do; the card's figure is the mean over 500.
  expect(result.psnr).toBeGreaterThan(result.cardPsnr - 3);
  expect(lines.join('\n')).toMatch(/64 tokens of 256 codes each = 64 bytes per image/);
  const size = (file: string) => {
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    return [png.readUInt32BE(16), png.readUInt32BE(20)];
  };
  expect(size(result.files.reconstructions)).toEqual([4 * 34 - 2, 2 * 34 - 2]);
  expect(size(result.files.generated)).toEqual([10 * 34 - 2, 32]);
});
