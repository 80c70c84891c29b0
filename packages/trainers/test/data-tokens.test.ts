// Pre-tokenised datasets: tokenizeDataset with a small tokenizer of core's contract, writeTokenDataset /
// loadTokenDataset through a temporary folder, a map of files and the local hub, and batches of tokens.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AbortError, ConfigError, DTypeError, type LoadProgressEvent, ShapeError, StateDictError, type Tokenizer, ValueError } from '@vtok/core';
import { expectError, expectNoLeak, prng, useLocalHub } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { batches, loadTokenDataset, memoryImages, TOKEN_DATASET_FORMAT, tokenizeDataset, writeTokenDataset } from '../src';

/**
 * A tokenizer of core's contract small enough to check by hand: 4×4×3 images, one token per 2×2 patch
 * ([2, 2] tokens), the patch's mean over pixels and channels quantised to 8 levels.
 */
class PatchMeanTokenizer implements Tokenizer {
  readonly specificationVersion = 'v1' as const;
  readonly tokens = { vocabSize: 8, shape: [2, 2] };
  readonly inputShape = [4, 4, 3];
  encode(images: tf.Tensor): Promise<tf.Tensor> {
    return Promise.resolve(
      tf.tidy(() => {
        const means = tf.mean(tf.avgPool(images as tf.Tensor4D, 2, 2, 'valid'), -1);
        return tf.cast(tf.minimum(tf.floor(tf.mul(means, 8)), 7), 'int32');
      }),
    );
  }
  decode(tokens: tf.Tensor): Promise<tf.Tensor> {
    return Promise.resolve(tf.tidy(() => tf.tile(tf.expandDims(tf.div(tf.add(tf.cast(tokens, 'float32'), 0.5), 8), -1), [1, 1, 1, 3])));
  }
  dispose(): void {}
}

/** The same tokens in plain JS. */
function patchMeanTokens(pixels: Float32Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let py = 0; py < 2; py++) {
      for (let px = 0; px < 2; px++) {
        let sum = 0;
        for (let y = 2 * py; y < 2 * py + 2; y++) for (let x = 2 * px; x < 2 * px + 2; x++) for (let k = 0; k < 3; k++) sum += pixels[((i * 4 + y) * 4 + x) * 3 + k];
        out.push(Math.min(7, Math.floor(Math.fround(sum / 12) * 8)));
      }
    }
  }
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'vtok-token-dataset-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const metadata = { tokenizer: 'test/patch-mean', codebookSize: 8, tokenShape: [2, 2] };

describe('tokenizeDataset', () => {
  const random = prng(11);
  const pixels = Float32Array.from({ length: 5 * 48 }, () => random.next());
  const labels = [3, 1, 4, 1, 5];

  it('encodes the dataset once, in order, with labels and progress, freeing every tensor', async () => {
    const data = await memoryImages(pixels, { shape: [5, 4, 4, 3], labels });
    const events: unknown[] = [];
    let result: Awaited<ReturnType<typeof tokenizeDataset>> | undefined;
    await expectNoLeak(async () => {
      result = await tokenizeDataset(new PatchMeanTokenizer(), data, { name: 'test/patch-mean', batchSize: 2, onProgress: (e) => events.push(e) });
    }, 'tokenizeDataset');
    expect(Array.from(result!.tokens)).toEqual(patchMeanTokens(pixels, 5));
    expect(Array.from(result!.labels as Int32Array)).toEqual(labels);
    expect(result!.metadata).toEqual(metadata);
    expect(events).toEqual([1, 2, 3].map((step) => ({ type: 'step', step, of: 3, label: 'tokenize' })));

    // What it returns is what writeTokenDataset takes.
    await writeTokenDataset(join(tmp, 'tokenized'), result!);
    const loaded = await loadTokenDataset(join(tmp, 'tokenized'));
    expect(Array.from(loaded.tokens)).toEqual(Array.from(result!.tokens));
    expect(Array.from(loaded.labels!)).toEqual(labels);
  });

  it('stops with an AbortError between batches, leaving nothing behind', async () => {
    const data = await memoryImages(pixels, { shape: [5, 4, 4, 3] });
    const controller = new AbortController();
    await expectError(
      () => tokenizeDataset(new PatchMeanTokenizer(), data, { name: 'x', batchSize: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      AbortError,
      /tokenizeDataset was aborted after 1 of 3 batches/,
    );
  });

  it('refuses images the tokenizer does not take, and tokenizers that return the wrong thing', async () => {
    const small = await memoryImages(new Float32Array(2 * 8 * 8), { shape: [2, 8, 8, 1] });
    await expectError(() => tokenizeDataset(new PatchMeanTokenizer(), small, { name: 'x' }), ShapeError, /the tokenizer takes images \[4, 4, 3\], the dataset's are \[8, 8, 1\]/);
    const data = await memoryImages(pixels, { shape: [5, 4, 4, 3] });
    const floats = new PatchMeanTokenizer();
    floats.encode = async (images) => tf.zeros([images.shape[0], 2, 2]);
    await expectError(() => tokenizeDataset(floats, data, { name: 'x' }), DTypeError, /the tokenizer output must be int32 ids, got float32/);
    await expectError(() => tokenizeDataset(new PatchMeanTokenizer(), data, { name: '' }), ValueError, /options.name .* must be a non-empty string/);
  });
});

describe('writeTokenDataset / loadTokenDataset', () => {
  const tokens = Int32Array.from({ length: 6 * 4 }, (_, i) => (i * 5) % 8);

  it('round-trips through a folder: config.json + model.safetensors, examples and batches of tokens', async () => {
    const folder = join(tmp, 'nested', 'tokens');
    expect(await writeTokenDataset(folder, { tokens, labels: [0, 1, 2, 0, 1, 2], metadata })).toBeUndefined();
    expect(existsSync(join(folder, 'model.safetensors'))).toBe(true);
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    expect(config).toEqual({ format: TOKEN_DATASET_FORMAT, version: 1, ...metadata, count: 6, labels: true });

    const data = await loadTokenDataset(folder);
    expect(data.metadata).toEqual(metadata);
    expect(data.length).toBe(6);
    expect(await data.get(2)).toEqual({ tokens: tokens.slice(8, 12), label: 2 });
    await expectNoLeak(async () => {
      const out: tf.Tensor[] = [];
      for await (const b of batches(data, { batchSize: 4, shuffle: false, epochs: 1 })) out.push(b.tokens, b.labels!);
      expect(out[0].shape).toEqual([4, 4]);
      expect(out[0].dtype).toBe('int32');
      expect(Array.from(await out[0].data())).toEqual(Array.from(tokens.subarray(0, 16)));
      expect(Array.from(await out[3].data())).toEqual([1, 2]);
      return out;
    }, 'token batches');
  });

  it('takes tokens as a tensor [N, ...tokenShape] (left to the caller) and returns the files without a target', async () => {
    const grid = tf.tensor3d(tokens, [6, 2, 2], 'int32');
    let files: Awaited<ReturnType<typeof writeTokenDataset>>;
    await expectNoLeak(async () => {
      files = await writeTokenDataset(undefined, { tokens: grid, metadata });
    }, 'writeTokenDataset');
    expect(grid.isDisposed).toBe(false);
    grid.dispose();
    expect(Object.keys(files!).sort()).toEqual(['config.json', 'model.safetensors']);
    const data = await loadTokenDataset(files!);
    expect(Array.from(data.tokens)).toEqual(Array.from(tokens));
    expect(data.labels).toBeUndefined();
    expect((await data.get(5)).label).toBeUndefined();
  });

  describe('from a hub', () => {
    const local = useLocalHub();
    it('loads hf:test/tokens with progress, then from the cache without a request', async () => {
      const files = (await writeTokenDataset(undefined, { tokens, labels: [5, 4, 3, 2, 1, 0], metadata }))!;
      local.hub.setRepo('test/tokens', files);
      const events: LoadProgressEvent[] = [];
      const options = { hubEndpoint: local.hub.endpoint, cacheDir: local.cacheDir, onProgress: (e: LoadProgressEvent) => events.push(e) };
      const first = await loadTokenDataset('hf:test/tokens', options);
      expect(local.hub.requests).toEqual(['/test/tokens/resolve/main/config.json', '/test/tokens/resolve/main/model.safetensors']);
      expect(events.map((e) => e.status)).toContain('download');
      expect(events.at(-1)).toEqual({ type: 'load', status: 'ready', name: 'hf:test/tokens', model: 'token dataset' });
      const second = await loadTokenDataset('hf:test/tokens', options);
      expect(local.hub.requests).toHaveLength(2);
      for (const data of [first, second]) {
        expect(Array.from(data.tokens)).toEqual(Array.from(tokens));
        expect(Array.from(data.labels!)).toEqual([5, 4, 3, 2, 1, 0]);
        expect(data.metadata).toEqual(metadata);
      }
    });
  });

  it('refuses bad content with typed errors that say what was expected', async () => {
    await expectError(() => writeTokenDataset(undefined, { tokens: Int32Array.from([1, 2, 8, 0]), metadata }), ValueError, /token ids must be in \[0, 7\] \(codebook size 8\), got 8 at position 2/);
    await expectError(() => writeTokenDataset(undefined, { tokens: Int32Array.from([1, 2, 3]), metadata }), ShapeError, /3 token ids are not a whole number of examples of 4 \(token shape \[2, 2\]\)/);
    await expectError(() => writeTokenDataset(undefined, { tokens, metadata: { ...metadata, codebookSize: 0 } }), ValueError, /codebookSize must be a positive integer, got 0/);
    await expectError(() => writeTokenDataset(undefined, { tokens, metadata: { codebookSize: 8, tokenShape: [4] } as never }), ValueError, /tokenizer must be a non-empty string/);
    await expectError(() => writeTokenDataset(undefined, { tokens, labels: [1, 2], metadata }), ShapeError, /expected 6 labels \(one per example\), got 2/);
    const floats = tf.zeros([6, 4]);
    await expectError(() => writeTokenDataset(undefined, { tokens: floats, metadata }), ValueError, /tokens must be int32 ids, got float32/);
    floats.dispose();
    const wrong = tf.zeros([6, 3], 'int32');
    await expectError(() => writeTokenDataset(undefined, { tokens: wrong, metadata }), ShapeError, /expected tokens \[N, 4\] or \[N, 2, 2\], got \[6, 3\]/);
    wrong.dispose();
  });

  it('refuses sources that are not token datasets, or whose tensors disagree with their config', async () => {
    const files = (await writeTokenDataset(undefined, { tokens, metadata }))!;
    const model = { ...files, 'config.json': JSON.stringify({ model_type: 'titok' }) };
    await expectError(() => loadTokenDataset(model), ConfigError, /is not a token dataset: expected "format": "vtok-token-dataset" in its config, got undefined/);
    const lying = { ...files, 'config.json': JSON.stringify({ format: TOKEN_DATASET_FORMAT, version: 1, ...metadata, count: 5, labels: true }) };
    const error = await expectError(() => loadTokenDataset(lying), StateDictError);
    expect(error.problems.missing).toEqual(['labels']);
    expect(error.problems.mismatched).toEqual([{ name: 'tokens', expected: [5, 4], got: [6, 4] }]);
    const future = { ...files, 'config.json': JSON.stringify({ format: TOKEN_DATASET_FORMAT, version: 2, ...metadata, count: 6, labels: false }) };
    await expectError(() => loadTokenDataset(future), ConfigError, /version 2 is not one this reader knows \(1\)/);
  });
});
