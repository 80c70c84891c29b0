/**
 * loadMagvit2 / saveMagvit2: the source kinds (map of files, folder, URL prefix), the released .ckpt
 * layout (zip + pickle, EMA copies, discriminator keys) through @vtok/core's safe reader, EMA choice,
 * AR checkpoints, encoder-/decoder-only loads, and one StateDictError for every mismatch.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, PickleSecurityError, readSafetensors, StateDictError, writeSafetensors } from '@vtok/core';
import { goldenCase } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { emaKey, loadMagvit2, type Magvit2Tokenizer, openMagvit2StateDict, saveMagvit2 } from '../src';
import { caseFiles, openMagvit2Config } from './helpers/golden';

const c = goldenCase('omagvit2_image_tiny');
const official = readSafetensors(c.weightsBytes, { copy: true }).tensors;
/** Non-golden fixtures made here (see fixtures/README.md). */
const FIXTURES = join(import.meta.dirname, 'fixtures');
const ckpt = new Uint8Array(readFileSync(join(FIXTURES, 'omagvit2_image_ckpt', 'model.ckpt')));
const evil = new Uint8Array(readFileSync(join(FIXTURES, 'omagvit2_image_ckpt', 'evil.ckpt')));
const temp = mkdtempSync(join(tmpdir(), 'vtok-magvit2-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Every weight of the tokenizer equals the official tensor of that name (PyTorch layout), bit for bit. */
async function expectOfficialWeights(tok: Magvit2Tokenizer): Promise<void> {
  const dict = openMagvit2StateDict(tok.model);
  expect(Object.keys(dict).sort()).toEqual(Object.keys(official).sort());
  for (const [name, t] of Object.entries(dict)) {
    expect(Array.from(await t.data()), name).toEqual(Array.from(official[name].data));
  }
  tf.dispose(Object.values(dict));
}

async function withTokenizer<T>(tok: Promise<Magvit2Tokenizer>, f: (t: Magvit2Tokenizer) => Promise<T>): Promise<T> {
  const t = await tok;
  try {
    return await f(t);
  } finally {
    t.dispose();
  }
}

describe('loadMagvit2 sources', () => {
  it('a map of files: config.json (text or object) + model.safetensors', async () => {
    await withTokenizer(loadMagvit2(caseFiles(c)), expectOfficialWeights);
    await withTokenizer(loadMagvit2({ 'config.json': openMagvit2Config(c), 'model.safetensors': c.weightsBytes }), expectOfficialWeights);
  });

  it('a folder (Node), including a file: URL', async () => {
    const dir = join(temp, 'folder');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(openMagvit2Config(c)));
    writeFileSync(join(dir, 'model.safetensors'), c.weightsBytes);
    await withTokenizer(loadMagvit2(dir), expectOfficialWeights);
    await withTokenizer(loadMagvit2(new URL(`file://${dir}`)), expectOfficialWeights);
  });

  it('a URL prefix, through the given fetch', async () => {
    const served: Record<string, Uint8Array> = {
      'https://example.test/omagvit2/config.json': new TextEncoder().encode(JSON.stringify(openMagvit2Config(c))),
      'https://example.test/omagvit2/model.safetensors': c.weightsBytes,
    };
    const requested: string[] = [];
    const fetch = async (url: string | URL) => {
      requested.push(String(url));
      const body = served[String(url)];
      return body ? new Response(body.slice()) : new Response('missing', { status: 404 });
    };
    await withTokenizer(loadMagvit2('https://example.test/omagvit2', { fetch, cache: false }), expectOfficialWeights);
    expect(requested.sort()).toEqual(Object.keys(served).sort());
    await expect(loadMagvit2('https://example.test/elsewhere/', { fetch, cache: false })).rejects.toThrow(/model.safetensors was not found at https:\/\/example.test\/elsewhere\/model.safetensors/);
  });

  it('a released-style .ckpt (Lightning dict, zip + pickle): the EMA copy is loaded, raw, EMA counters and discriminator keys are not', async () => {
    const files = { 'config.json': openMagvit2Config(c), 'imagenet_tiny.ckpt': ckpt };
    await withTokenizer(loadMagvit2(files), expectOfficialWeights);
    // The raw training weights in this file are all zero: with preferEma false they are what is loaded.
    await withTokenizer(loadMagvit2(files, { preferEma: false }), async (tok) => {
      const dict = openMagvit2StateDict(tok.model);
      const sum = tf.tidy(() => tf.addN(Object.values(dict).map((t) => tf.sum(tf.abs(t)))));
      expect((await sum.data())[0]).toBe(0);
      tf.dispose([sum, ...Object.values(dict)]);
    });
  });

  it('refuses a checkpoint whose pickle names a global outside the allow-list, without running it', async () => {
    const marker = '/tmp/vtok-magvit2-pwned';
    rmSync(marker, { force: true });
    await expect(loadMagvit2({ 'config.json': openMagvit2Config(c), 'model.ckpt': evil })).rejects.toThrow(PickleSecurityError);
    expect(existsSync(marker)).toBe(false);
  });

  it('a safetensors file converted from a checkpoint, with model_ema.* keys beside the raw ones: EMA wins by default', async () => {
    const tensors: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(official)) {
      tensors[name] = { dtype: 'float32', shape: [...t.shape], data: new Float32Array(t.data.length) };
      tensors[emaKey(name)] = { dtype: 'float32', shape: [...t.shape], data: t.data as Float32Array };
    }
    tensors['model_ema.decay'] = { dtype: 'float32', shape: [], data: new Float32Array([0.999]) };
    const bytes = await writeSafetensors(tensors);
    await withTokenizer(loadMagvit2({ 'config.json': openMagvit2Config(c), 'model.safetensors': bytes }), expectOfficialWeights);
  });

  it('an autoregressive checkpoint: the tokenizer under first_stage_model.*, the transformer ignored', async () => {
    const tensors: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(official)) tensors[`first_stage_model.${name}`] = { dtype: 'float32', shape: [...t.shape], data: t.data as Float32Array };
    tensors['transformer.tok_embeddings.weight'] = { dtype: 'float32', shape: [4, 2], data: new Float32Array(8) };
    const bytes = await writeSafetensors(tensors);
    await withTokenizer(loadMagvit2({ 'config.json': openMagvit2Config(c), 'model.safetensors': bytes }), expectOfficialWeights);
  });

  it('encoder-only and decoder-only loads ignore the other half; using the missing half is a ConfigError', async () => {
    await withTokenizer(loadMagvit2(caseFiles(c), { parts: ['decoder'] }), async (tok) => {
      expect(tok.model.encoder).toBeUndefined();
      const images = tf.zeros([1, ...tok.inputShape]);
      await expect(tok.encode(images)).rejects.toThrow(ConfigError);
      images.dispose();
    });
  });

  it('names the weights file to use when the folder holds several', async () => {
    const files = { ...caseFiles(c), 'a.ckpt': ckpt, 'b.ckpt': ckpt };
    delete (files as Record<string, unknown>)['model.safetensors'];
    await expect(loadMagvit2(files)).rejects.toThrow(/several weights files .*a\.ckpt, b\.ckpt.*options\.weights/);
    await withTokenizer(loadMagvit2(files, { weights: 'b.ckpt' }), expectOfficialWeights);
    await expect(loadMagvit2({ 'config.json': openMagvit2Config(c) })).rejects.toThrow(/no weights/);
  });
});

describe('mismatching weights', () => {
  it('one StateDictError lists every missing, unexpected and mis-shaped tensor, in PyTorch names and layouts', async () => {
    const tensors: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(official)) tensors[name] = { dtype: 'float32', shape: [...t.shape], data: t.data as Float32Array };
    delete tensors['decoder.norm_out.bias'];
    tensors['encoder.extra.weight'] = { dtype: 'float32', shape: [2], data: new Float32Array(2) };
    const w = tensors['encoder.conv_in.weight'];
    tensors['encoder.conv_in.weight'] = { dtype: 'float32', shape: [w.shape[0], w.shape[1], 1, w.shape[2] * w.shape[3]], data: w.data };
    const bytes = await writeSafetensors(tensors);
    const before = tf.memory().numTensors;
    const error = await loadMagvit2({ 'config.json': openMagvit2Config(c), 'model.safetensors': bytes }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateDictError);
    const { problems, message } = error as StateDictError;
    expect(problems.missing).toEqual(['decoder.norm_out.bias']);
    expect(problems.unexpected).toEqual(['encoder.extra.weight']);
    expect(problems.mismatched).toEqual([{ name: 'encoder.conv_in.weight', expected: [...w.shape], got: [w.shape[0], w.shape[1], 1, w.shape[2] * w.shape[3]] }]);
    expect(message).toMatch(/decoder\.norm_out\.bias/);
    expect(tf.memory().numTensors, 'a failed load frees what it made').toBe(before);
  });

  it('a config that does not fit the weights (another ch_mult) is one StateDictError too', async () => {
    const json = openMagvit2Config(c) as any;
    json.model.init_args.ddconfig = { ...json.model.init_args.ddconfig, ch_mult: [...json.model.init_args.ddconfig.ch_mult, 1] };
    await expect(loadMagvit2({ 'config.json': json, 'model.safetensors': c.weightsBytes })).rejects.toThrow(StateDictError);
  });
});

describe('saving', () => {
  it('saveMagvit2 without a target, and to a folder that does not exist yet, writes config.json + model.safetensors that load back identically', async () => {
    await withTokenizer(loadMagvit2(caseFiles(c), { normalization: 'causal' }), async (tok) => {
      const files = await saveMagvit2(tok);
      // The weights file uses the official names and PyTorch layouts: byte-identical tensors to the official file.
      const written = readSafetensors(files['model.safetensors']).tensors;
      for (const [name, t] of Object.entries(official)) expect(Array.from(written[name].data), name).toEqual(Array.from(t.data));
      await withTokenizer(loadMagvit2(files), async (back) => {
        expect(back.model.config).toEqual(tok.model.config);
        expect(back.normalization).toBe('causal');
        await expectOfficialWeights(back);
      });
      const dir = join(temp, 'not', 'there', 'yet');
      await saveMagvit2(tok, dir);
      await withTokenizer(loadMagvit2(dir), expectOfficialWeights);
      // The safetensors metadata carries the config, so the weights file alone is enough.
      await withTokenizer(loadMagvit2({ 'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))) }), expectOfficialWeights);
    });
  });
});
