// The example's command line, run in-process on checkpoint folders written by saveTiTok / saveMaskGIT.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, TokenSpaceMismatchError } from '@vtok/core';
import { saveMaskGIT } from '@vtok/maskgit';
import { saveTiTok } from '@vtok/titok';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli';
import { smallGenerator, smallTiTok } from './models';

const folder = mkdtempSync(join(tmpdir(), 'vtok-cli-'));
beforeAll(async () => {
  const titok = smallTiTok(1);
  const generator = smallGenerator(titok.tokens, 2);
  const other = smallGenerator({ vocabSize: 128, shape: [8] }, 3);
  await saveTiTok(titok, join(folder, 'titok'));
  await saveMaskGIT(generator, join(folder, 'generator'));
  await saveMaskGIT(other, join(folder, 'other-generator'));
  titok.dispose();
  generator.dispose();
  other.dispose();
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('vtok-generate command line', () => {
  it('writes one 32×32 PNG per class and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const out = join(folder, 'out');
    const files = await runCli(
      ['--tokenizer', `titok:${join(folder, 'titok')}`, '--generator', join(folder, 'generator'), '--classes', '4,5', '--steps', '3', '--out', out],
      (l) => lines.push(l),
    );
    expect(files).toEqual([join(out, 'class-4-0.png'), join(out, 'class-5-1.png')]);
    for (const file of files) {
      const png = readFileSync(file);
      expect(png.readUInt32BE(16)).toBe(32); // IHDR width
      expect(png.readUInt32BE(20)).toBe(32); // IHDR height
    }
    expect(lines).toContain('token space: vocabulary 64, shape [8]');
    expect(lines).toContain('step 3/3');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('explains bad arguments and mismatched models', async () => {
    await expect(runCli(['--tokenizer', 'vqgan:x', '--generator', 'g', '--classes', '1'])).rejects.toThrow(ConfigError);
    await expect(runCli(['--tokenizer', `titok:${join(folder, 'titok')}`, '--classes', '1'])).rejects.toThrow(/--generator <folder> is required/);
    await expect(runCli(['--tokenizer', `titok:${join(folder, 'titok')}`, '--generator', 'g', '--classes', 'a,b'])).rejects.toThrow(/comma-separated list/);
    const before = tf.memory().numTensors;
    await expect(
      runCli(['--tokenizer', `titok:${join(folder, 'titok')}`, '--generator', join(folder, 'other-generator'), '--classes', '1']),
    ).rejects.toThrow(TokenSpaceMismatchError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
