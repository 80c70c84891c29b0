import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FileNotFoundError, StateDictError, TorchCheckpointError, writeSafetensors } from '@vtok/core';
import { expectError } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ImageBert,
  type MaskGITConfigInput,
  type MaskGITGenerator,
  UViTBert,
  createMaskGIT,
  loadMaskGIT,
  saveMaskGIT,
  toOfficialConfig,
} from '../src';

const bertConfig: MaskGITConfigInput = { codebookSize: 16, numClasses: 4, tokenShape: [6], hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32 };
const uvitConfig: MaskGITConfigInput = { ...bertConfig, modelType: 'UViT', tokenShape: [2, 3] };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vtok-maskgit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sameWeights(a: MaskGITGenerator, b: MaskGITGenerator): Promise<void> {
  const da = a.stateDict();
  const db = b.stateDict();
  expect(Object.keys(db).sort()).toEqual(Object.keys(da).sort());
  for (const name of Object.keys(da)) expect(Array.from(await db[name].data()), name).toEqual(Array.from(await da[name].data()));
}

/** A fake fetch over an in-memory folder, as a static file server (404 for anything else). */
function fakeFetch(files: Record<string, Uint8Array | string>, requested: string[] = []) {
  return async (input: string | URL) => {
    const url = String(input);
    requested.push(url);
    const body = files[url];
    if (body === undefined) return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(typeof body === 'string' ? body : body.slice());
  };
}

describe('saveMaskGIT / loadMaskGIT', () => {
  it('round-trips a folder in the official layout (config.json + model.safetensors), ImageBert and UViTBert', async () => {
    for (const [config, Class] of [[bertConfig, ImageBert], [uvitConfig, UViTBert]] as const) {
      const before = tf.memory().numTensors;
      const model = createMaskGIT(config, { seed: 1 });
      const folder = join(dir, `roundtrip-${Class.name}`);
      await saveMaskGIT(model, folder);
      const official = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
      expect(official.model.generator.model_type).toBe(config.modelType ?? 'ViT');
      expect(official.model.vq_model.codebook_size).toBe(16);
      const loaded = await loadMaskGIT(folder);
      expect(loaded).toBeInstanceOf(Class);
      expect(loaded.config).toEqual(model.config);
      await sameWeights(model, loaded);
      // The weights file alone carries the config in its metadata.
      const single = await loadMaskGIT(join(folder, 'model.safetensors'), {});
      await sameWeights(model, single);
      [model, loaded, single].forEach((m) => m.dispose());
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('loads an official HF folder through a URL prefix: ${} references, position_ids ignored', async () => {
    const model = createMaskGIT(bertConfig, { seed: 2 });
    const official = toOfficialConfig(model.config);
    // As the HF repos ship it: an unresolved reference, and the buffer older transformers saved.
    (official.model as any).generator.image_seq_len = '${model.vq_model.num_latent_tokens}';
    (official.model as any).vq_model.num_latent_tokens = 6;
    const weights = await writeSafetensors(
      { ...model.stateDict(), 'model.embeddings.position_ids': { dtype: 'int32', shape: [1, 7], data: Int32Array.from([0, 1, 2, 3, 4, 5, 6]) } },
      { format: 'pt' },
    );
    const requested: string[] = [];
    const fetch = fakeFetch({ 'https://hub.test/gen/config.json': JSON.stringify(official), 'https://hub.test/gen/model.safetensors': weights }, requested);
    const loaded = await loadMaskGIT('https://hub.test/gen', { fetch, cache: false });
    expect(requested).toEqual(['https://hub.test/gen/config.json', 'https://hub.test/gen/model.safetensors']);
    expect(loaded.sequenceLength).toBe(6);
    await sameWeights(model, loaded);
    // And a URL of the weights file itself, its config.json found next to it.
    const direct = await loadMaskGIT('https://hub.test/gen/model.safetensors', { fetch, cache: false });
    await sameWeights(model, direct);
    await expect(loadMaskGIT('https://hub.test/nothing/', { fetch, cache: false })).rejects.toThrow(/model.safetensors was not found at https:\/\/hub.test\/nothing\/model.safetensors/);
    [model, loaded, direct].forEach((m) => m.dispose());
  });

  it('loads a map of files (saveMaskGIT output without a target), and bytes with a preset or config', async () => {
    const model = createMaskGIT(uvitConfig, { seed: 3 });
    const files = await saveMaskGIT(model);
    const fromMap = await loadMaskGIT(files);
    await sameWeights(model, fromMap);
    const fromText = await loadMaskGIT({ 'config.json': files['config.json'], 'gen.safetensors': files['model.safetensors'] });
    await sameWeights(model, fromText);
    const plain = await writeSafetensors(model.stateDict());
    await expect(loadMaskGIT(plain)).rejects.toThrow(/no config found for the weights bytes: put config.json next to it, or pass options.config/);
    const fromBytes = await loadMaskGIT(plain, { config: uvitConfig });
    await sameWeights(model, fromBytes);
    [model, fromMap, fromText, fromBytes].forEach((m) => m.dispose());
  });

  it('reports every missing, unexpected and mis-shaped tensor in one StateDictError, and leaks nothing', async () => {
    const model = createMaskGIT(bertConfig, { seed: 4 });
    const dict: Record<string, tf.Tensor> = { ...model.stateDict() };
    delete dict['model.lm_head.bias'];
    delete dict['model.encoder.layer.1.output.LayerNorm.weight'];
    dict['model.encoder.layer.0.attention.self.key.weight'] = tf.zeros([16, 8]);
    dict['model.pooler.dense.weight'] = tf.zeros([16, 16]);
    const bytes = await writeSafetensors(dict);
    tf.dispose([dict['model.encoder.layer.0.attention.self.key.weight'], dict['model.pooler.dense.weight']]);
    const error = await expectError(() => loadMaskGIT({ 'model.safetensors': bytes }, { config: bertConfig }), StateDictError);
    const problems = error.problems;
    expect(problems.missing.sort()).toEqual(['model.encoder.layer.1.output.LayerNorm.weight', 'model.lm_head.bias']);
    expect(problems.unexpected).toEqual(['model.pooler.dense.weight']);
    expect(problems.mismatched).toEqual([{ name: 'model.encoder.layer.0.attention.self.key.weight', expected: [16, 16], got: [16, 8] }]);
    expect(error.message).toMatch(/model.safetensors \(in files \{model.safetensors\}\) does not match the model/);
    model.dispose();
  });

  it('reads PyTorch files with the safe reader of core, recognised by content', async () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]);
    // A truncated zip is the reader's typed error, not a crash, whatever the file is called.
    await expect(loadMaskGIT({ 'generator_titok_l32.bin': zip }, { config: bertConfig })).rejects.toThrow(TorchCheckpointError);
    await expect(loadMaskGIT({ 'generator.safetensors': zip }, { config: bertConfig })).rejects.toThrow(TorchCheckpointError);
  });

  it('says what is missing in a folder', async () => {
    const empty = join(dir, 'empty');
    await rm(empty, { recursive: true, force: true });
    await expect(loadMaskGIT(join(dir, 'does-not-exist'))).rejects.toThrow(FileNotFoundError);
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, 'config.json'), '{}');
    await expect(loadMaskGIT(empty)).rejects.toThrow(/no weights there: expected model.safetensors/);
    await writeFile(join(empty, 'a.safetensors'), '');
    await writeFile(join(empty, 'b.safetensors'), '');
    await expect(loadMaskGIT(empty)).rejects.toThrow(/several weights files \(a.safetensors, b.safetensors\); name one with options.weights/);
    await writeFile(join(empty, 'config.json'), '{ not json');
    await expect(loadMaskGIT(empty, { weights: 'a.safetensors' })).rejects.toThrow(/config.json is not valid JSON/);
  });
});
