import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, FileNotFoundError, SafetensorsError, StateDictError, readSafetensors, torchLayouts, torchShape, writeSafetensors, type Module } from '@vtok/core';
import { expectError, goldenCase } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { createMaskGitVqgan, createTiTok, loadMaskGitVqgan, loadTiTok, saveMaskGitVqgan, saveTiTok, type TiTok } from '../src';
import { TINY_VAE_CONFIG, officialConfigOf, officialFiles } from './helpers';

const tiny = goldenCase('titok_tiny');
const folders: string[] = [];
const tempFolder = () => {
  const f = mkdtempSync(join(tmpdir(), 'vtok-titok-'));
  folders.push(f);
  return f;
};
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** The PyTorch shape of every state-dict entry (conv kernels OIHW). */
function officialShapes(model: Module): Map<string, number[]> {
  const layouts = torchLayouts(model);
  return new Map(Object.entries(model.stateDict()).map(([name, v]) => [name, torchShape(v.shape, layouts.get(name))]));
}

/** Index of the first differing element, or -1 (vitest's deep equality is slow on large typed arrays). */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

async function expectSameState(a: TiTok, b: TiTok): Promise<void> {
  const sa = a.stateDict();
  const sb = b.stateDict();
  expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
  for (const [name, t] of Object.entries(sa)) {
    expect(sb[name].shape, name).toEqual(t.shape);
    expect(firstDifference(await sb[name].data(), await t.data()), name).toBe(-1);
  }
}

/** A fetch over a file map that delivers bodies in small chunks, as a network would. */
function fakeFetch(files: Record<string, string | Uint8Array>, seen: string[] = []) {
  return async (url: string): Promise<Response> => {
    seen.push(url);
    const name = url.slice(url.lastIndexOf('/') + 1);
    const content = files[name];
    if (content === undefined) return new Response('not found', { status: 404, statusText: 'Not Found' });
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= bytes.byteLength) return controller.close();
        const size = 1 + ((at * 7919) % 4093); // irregular chunk sizes
        controller.enqueue(bytes.slice(at, at + size));
        at += size;
      },
    });
    return new Response(body, { status: 200 });
  };
}

describe('loadTiTok / saveTiTok', () => {
  it('loads the official layout from a file map and keeps the official tensors exactly', async () => {
    const model = await loadTiTok(officialFiles(tiny));
    const weights = readSafetensors(tiny.weightsBytes).tensors;
    // Linear weights and tables as stored; conv kernels come back to OIHW on save.
    expect(firstDifference(await model.stateDict()['encoder.transformer.0.attn.in_proj_weight'].data(), weights['encoder.transformer.0.attn.in_proj_weight'].data)).toBe(-1);
    const patch = model.stateDict()['encoder.patch_embed.weight'];
    const [o, i, kh, kw] = weights['encoder.patch_embed.weight'].shape;
    expect(patch.shape).toEqual([kh, kw, i, o]);
    model.dispose();
  });

  it('round-trips: load → save → load gives identical tensors and config, and the same bytes again', async () => {
    const files = officialFiles(tiny);
    const first = await loadTiTok(files);
    const saved = await saveTiTok(first);
    expect(JSON.parse(saved['config.json'])).toEqual(officialConfigOf(tiny));
    // The saved weights are the official file's tensors (same names, shapes, values).
    const original = readSafetensors(tiny.weightsBytes).tensors;
    const written = readSafetensors(saved['model.safetensors']);
    expect(written.metadata.format).toBe('pt');
    expect(JSON.parse(written.metadata.config)).toEqual(officialConfigOf(tiny));
    expect(Object.keys(written.tensors).sort()).toEqual(Object.keys(original).sort());
    for (const [name, t] of Object.entries(original)) {
      expect(written.tensors[name].shape, name).toEqual(t.shape);
      expect(firstDifference(written.tensors[name].data, t.data), name).toBe(-1);
    }
    const second = await loadTiTok(saved);
    await expectSameState(first, second);
    expect(second.officialConfig).toEqual(first.officialConfig);
    const again = await saveTiTok(second);
    expect(firstDifference(again['model.safetensors'], saved['model.safetensors'])).toBe(-1);
    expect(again['config.json']).toBe(saved['config.json']);
    first.dispose();
    second.dispose();
  });

  it('saves to and loads from a folder (Node), as the Hugging Face repos lay it out', async () => {
    const model = await loadTiTok(officialFiles(tiny));
    const folder = tempFolder();
    await saveTiTok(model, folder);
    expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'))).toEqual(officialConfigOf(tiny));
    const reloaded = await loadTiTok(folder);
    await expectSameState(model, reloaded);
    const fromFileUrl = await loadTiTok(pathToFileURL(folder));
    await expectSameState(model, fromFileUrl);
    model.dispose();
    reloaded.dispose();
    fromFileUrl.dispose();
  });

  it('loads from a URL prefix, streaming the weights, and from hf:owner/repo', async () => {
    const seen: string[] = [];
    const fetch = fakeFetch(officialFiles(tiny), seen);
    const reference = await loadTiTok(officialFiles(tiny));
    const fromUrl = await loadTiTok('https://example.org/models/titok_tiny', { fetch, cache: false });
    await expectSameState(reference, fromUrl);
    expect(seen).toEqual(['https://example.org/models/titok_tiny/config.json', 'https://example.org/models/titok_tiny/model.safetensors']);
    seen.length = 0;
    const fromHub = await loadTiTok('hf:yucornetto/tokenizer_titok_l32_imagenet', { fetch: fakeFetch(officialFiles(tiny), seen), cache: false });
    expect(seen[0]).toBe('https://huggingface.co/yucornetto/tokenizer_titok_l32_imagenet/resolve/main/config.json');
    await expect(loadTiTok('https://example.org/nothing/', { fetch: fakeFetch({}), cache: false })).rejects.toThrow(
      /model\.safetensors was not found at https:\/\/example\.org\/nothing\/model\.safetensors/,
    );
    tf.dispose([reference, fromUrl, fromHub].flatMap((m) => Object.values(m.stateDict())));
  });

  it('refuses a mismatched checkpoint with ONE StateDictError naming every offending tensor', async () => {
    const raw = readSafetensors(tiny.weightsBytes).tensors;
    const broken: Record<string, (typeof raw)[string]> = { ...raw };
    delete broken['decoder.ln_post.bias'];
    delete broken['pixel_decoder.conv_out.bias'];
    broken['encoder.extra_table'] = raw['decoder.ln_post.bias'];
    const w = raw['encoder.conv_out.weight']; // (12, 64, 1, 1) in PyTorch
    broken['encoder.conv_out.weight'] = { ...w, shape: [w.shape[1], w.shape[0], 1, 1] };
    const bytes = await writeSafetensors(broken);
    // expectError also checks that the failed load leaves nothing allocated.
    const error = await expectError(() => loadTiTok({ 'config.json': officialConfigOf(tiny), 'model.safetensors': bytes }), StateDictError);
    const problems = error.problems;
    expect(problems.missing.sort()).toEqual(['decoder.ln_post.bias', 'pixel_decoder.conv_out.bias']);
    expect(problems.unexpected).toEqual(['encoder.extra_table']);
    // Shapes are reported in the official (PyTorch) layout.
    expect(problems.mismatched).toEqual([{ name: 'encoder.conv_out.weight', expected: [12, 64, 1, 1], got: [64, 12, 1, 1] }]);
    expect(error.message).toMatch(/missing \(2\).*\n.*unexpected \(1\).*\n.*mis-shaped \(1\)/s);
  });

  it('says what is missing or malformed in the files', async () => {
    await expect(loadTiTok({ 'config.json': '{}' })).rejects.toThrow(FileNotFoundError);
    await expect(loadTiTok({ 'model.safetensors': tiny.weightsBytes, 'other.txt': 'x' })).rejects.toThrow(/has no config\.json/);
    await expect(loadTiTok({ 'config.json': '{not json', 'model.safetensors': tiny.weightsBytes })).rejects.toThrow(ConfigError);
    await expect(loadTiTok({ 'config.json': officialConfigOf(tiny), 'model.safetensors': new Uint8Array(5) })).rejects.toThrow(SafetensorsError);
    const dataStart = 8 + Number(new DataView(tiny.weightsBytes.buffer, tiny.weightsBytes.byteOffset, 8).getBigUint64(0, true));
    // A truncated file is refused from its header (the size is known), before any tensor is read.
    await expect(loadTiTok({ 'config.json': officialConfigOf(tiny), 'model.safetensors': tiny.weightsBytes.subarray(0, dataStart + 4000) })).rejects.toThrow(
      /model\.safetensors \(in files \{config\.json, model\.safetensors\}\): tensor "[^"]+": data_offsets \[\d+, \d+\] are out of range of the 4000-byte data section/,
    );
    await expect(loadTiTok({ 'config.json': officialConfigOf(tiny), 'model.safetensors': tiny.weightsBytes.subarray(0, 4000) })).rejects.toThrow(/past the end/);
    await expect(loadTiTok(join(tmpdir(), 'no-such-titok-folder'))).rejects.toThrow(/no-such-titok-folder.*no such file or folder/);
  });

  it('officialShapes lists PyTorch shapes (conv kernels OIHW)', () => {
    const model = createTiTok(officialConfigOf(tiny), { seed: 1 });
    const shapes = officialShapes(model);
    expect(shapes.get('encoder.patch_embed.weight')).toEqual([64, 3, 8, 8]);
    expect(shapes.get('decoder.ffn.2.weight')).toEqual([1024, 96, 1, 1]);
    expect(shapes.get('encoder.transformer.1.attn.in_proj_weight')).toEqual([192, 64]);
    model.dispose();
  });

  it('a VAE model round-trips without a quantizer tensor', async () => {
    const config = TINY_VAE_CONFIG;
    const model = createTiTok(config, { seed: 3 });
    expect(Object.keys(model.stateDict()).some((k) => k.startsWith('quantize'))).toBe(false);
    expect(officialShapes(model).get('encoder.conv_out.weight')).toEqual([8, 32, 1, 1]);
    const files = await saveTiTok(model);
    const back = await loadTiTok(files);
    await expectSameState(model, back);
    model.dispose();
    back.dispose();
  });
});

describe('loadMaskGitVqgan', () => {
  const c = goldenCase('vqgan_decoder_tiny');
  const d = c.config.decoder;
  const config = { hiddenChannels: d.hidden_channels, channelMult: d.channel_mult, numResBlocks: d.num_res_blocks, zChannels: d.z_channels, numEmbeddings: c.config.num_embeddings, resolution: d.resolution };

  it('parts: [\'decoder\'] skips the encoder.* keys of the official file, and nothing else', async () => {
    const raw = readSafetensors(c.weightsBytes).tensors;
    const withEncoder = await writeSafetensors({ ...raw, 'encoder.conv_in.weight': raw['quantize.embedding.weight'] });
    const model = await loadMaskGitVqgan(withEncoder, { config, parts: ['decoder'] });
    model.dispose();
    const extra = await writeSafetensors({ ...raw, 'decoder.surprise': raw['quantize.embedding.weight'] });
    await expect(loadMaskGitVqgan(extra, { config, parts: ['decoder'] })).rejects.toThrow(/unexpected \(1\): decoder\.surprise/);
    const folder = tempFolder();
    writeFileSync(join(folder, 'vqgan.safetensors'), c.weightsBytes);
    const fromFile = await loadMaskGitVqgan(join(folder, 'vqgan.safetensors'), { config, parts: ['decoder'] });
    fromFile.dispose();
  });

  it('createMaskGitVqgan (decoder only) → saveMaskGitVqgan → loadMaskGitVqgan round-trips, config included', async () => {
    const model = createMaskGitVqgan(config, { seed: 4, parts: ['decoder'] });
    const folder = join(tempFolder(), 'vqgan');
    await saveMaskGitVqgan(model, folder);
    const back = await loadMaskGitVqgan(folder, { parts: ['decoder'] });
    expect(back.config).toEqual(config);
    for (const [name, t] of Object.entries(model.stateDict())) expect(firstDifference(await back.stateDict()[name].data(), await t.data()), name).toBe(-1);
    expect(() => createMaskGitVqgan({ ...config, channelMult: [] })).toThrow(/channelMult must be a non-empty list/);
    model.dispose();
    back.dispose();
  });
});
