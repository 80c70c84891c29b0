// MaskGIT over TiTok (issue 5): the generator samples TiTok's 1D token sequences and TiTok decodes them,
// both from memory and through checkpoint folders as a user loads them; a mismatched pair is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TokenSpaceMismatchError } from '@vtok/core';
import { saveMaskGIT } from '@vtok/maskgit';
import { saveTiTok } from '@vtok/titok';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline, pairModels } from '../src/pipeline';
import { smallGenerator, smallTiTok } from './models';

const titok = smallTiTok(1);
const generator = smallGenerator(titok.tokens, 2);
const folder = mkdtempSync(join(tmpdir(), 'vtok-generate-'));
afterAll(() => {
  titok.dispose();
  generator.dispose();
  rmSync(folder, { recursive: true, force: true });
});

describe('MaskGIT generator + TiTok tokenizer', () => {
  it('generates images of the tokenizer size in [0, 1], reproducibly with a seed, leaking nothing', async () => {
    expect(titok.tokens).toEqual({ vocabSize: 64, shape: [8] });
    const pipeline = composeSmall();
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const options = { classes: [3, 7], steps: 4, guidanceScale: 2, seed: 5 };
    const a = await pipeline.generate({ ...options, onProgress: (e) => steps.push(e.step) });
    const b = await pipeline.generate(options);
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(a.shape).toEqual([2, 32, 32, 3]);
    const pixels = await a.data();
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    expect(Array.from(await b.data())).toEqual(Array.from(pixels));
    // The images are the decoded samples: decoding the generator's own tokens gives the same pixels.
    const tokens = await generator.sample(options);
    const decoded = await titok.decode(tokens);
    expect(Array.from(await decoded.data())).toEqual(Array.from(pixels));
    tf.dispose([a, b, tokens, decoded]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads both from checkpoint folders and generates what the models in memory generate', async () => {
    await saveTiTok(titok, join(folder, 'titok'));
    await saveMaskGIT(generator, join(folder, 'generator'));
    const loaded = await loadPipeline({ tokenizer: { kind: 'titok', source: join(folder, 'titok') }, generator: join(folder, 'generator') });
    const options = { classes: [0, 9], steps: 3, seed: 11 };
    const fromFolders = await loaded.generate(options);
    const fromMemory = await composeSmall().generate(options);
    const tolerance = 1e-5; // same weights, same backend: only the order of float32 sums can differ
    const x = await fromFolders.data();
    const y = await fromMemory.data();
    expect(x.length).toBe(y.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    expect(worst).toBeLessThanOrEqual(tolerance);
    tf.dispose([fromFolders, fromMemory]);
    loaded.dispose();
  });

  it('refuses a generator over another vocabulary or sequence length, stating both', async () => {
    const wrongLength = smallGenerator({ vocabSize: 64, shape: [16] });
    const wrongVocab = smallGenerator({ vocabSize: 4096, shape: [8] });
    expect(() => pairModels(titok, wrongLength)).toThrow(TokenSpaceMismatchError);
    expect(() => pairModels(titok, wrongLength)).toThrow(/token shape: the tokenizer has \[8\], the generator has \[16\]/);
    expect(() => pairModels(titok, wrongVocab)).toThrow(/vocabulary size: the tokenizer has 64, the generator has 4096/);
    wrongLength.dispose();
    wrongVocab.dispose();
  });
});

/** Pairs the shared models without handing them over (the suite disposes them at the end). */
function composeSmall() {
  return pairModels(titok, generator);
}
