/**
 * The I/O layer against a local hub (127.0.0.1): hf: ids resolve to {endpoint}/{owner}/{name}/resolve/
 * {revision}/{file}; progress events arrive in order with byte counts that add up; a second load is
 * served by the cache without a request; offline loads read the cache only; and every broken download
 * (404, 500, truncated body, wrong Content-Length, corrupt bytes, unreachable server, abort) is a typed
 * error that leaves nothing in the cache.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  AbortError,
  Conv2d,
  DownloadError,
  FileNotFoundError,
  Linear,
  type LoadOptions,
  type LoadProgressEvent,
  loadWeightsInto,
  Module,
  openModel,
  saveModel,
  SeededRandom,
  torchStateDictEntries,
} from '../src';
import { type LocalHub, startLocalHub } from '@vtok/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

class Tiny extends Module {
  readonly conv: Conv2d;
  readonly proj: Linear;
  constructor(seed: number) {
    super();
    const rng = new SeededRandom(seed);
    this.conv = this.addModule('conv', new Conv2d(3, 8, 3, { rng }));
    this.proj = this.addModule('proj', new Linear(8, 4, { rng }));
  }
}

/** Files under a folder, recursively (the cache's entries and anything left behind). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

async function loadTiny(source: string, options: LoadOptions): Promise<Tiny> {
  const opened = await openModel(source, options);
  try {
    const model = new Tiny(0);
    await loadWeightsInto(model, opened.weights);
    opened.ready('Tiny');
    return model;
  } finally {
    await opened.close();
  }
}

async function weightsOf(m: Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(m.stateDict())) out[k] = Array.from(await v.data());
  return out;
}

let hub: LocalHub;
let files: { 'config.json': string; 'model.safetensors': Uint8Array };
let reference: Tiny;
const temp = mkdtempSync(join(tmpdir(), 'vtok-io-hub-'));
let cacheCount = 0;
const freshCache = () => join(temp, `cache-${cacheCount++}`);

beforeAll(async () => {
  hub = await startLocalHub();
  reference = new Tiny(7);
  files = (await saveModel(undefined, { config: { kind: 'tiny', width: 8 }, tensors: torchStateDictEntries(reference) }))!;
  hub.setRepo('test/tiny', { 'config.json': files['config.json'], 'model.safetensors': { bytes: files['model.safetensors'], chunkBytes: 97 } });
});
afterAll(async () => {
  await hub.close();
  reference.dispose();
  rmSync(temp, { recursive: true, force: true });
});

describe('hf: ids from a local hub', () => {
  it('loads, reports progress in order with byte counts that add up, then loads again from the cache without a request', async () => {
    const cacheDir = freshCache();
    const events: LoadProgressEvent[] = [];
    const before = hub.requests.length;
    const model = await loadTiny('hf:test/tiny', { hubEndpoint: hub.endpoint, cacheDir, onProgress: (e) => events.push(e) });
    expect(hub.requests.slice(before)).toEqual(['/test/tiny/resolve/main/config.json', '/test/tiny/resolve/main/model.safetensors']);
    expect(await weightsOf(model)).toEqual(await weightsOf(reference));

    // Per file: initiate, download, progress…, done; then ready once.
    const statuses = (file: string) => events.filter((e) => 'file' in e && e.file === file).map((e) => e.status);
    for (const file of ['config.json', 'model.safetensors']) {
      const s = statuses(file);
      expect(s[0]).toBe('initiate');
      expect(s[1]).toBe('download');
      expect(s.at(-1)).toBe('done');
      expect(s.slice(2, -1).every((x) => x === 'progress')).toBe(true);
    }
    expect(events.at(-1)).toEqual({ type: 'load', status: 'ready', name: 'hf:test/tiny', model: 'Tiny' });
    const progress = events.filter((e): e is Extract<LoadProgressEvent, { status: 'progress' }> => e.status === 'progress');
    const weights = progress.filter((e) => e.file === 'model.safetensors');
    expect(weights.length).toBeGreaterThan(3); // served in 97-byte chunks
    for (let i = 1; i < weights.length; i++) expect(weights[i].loaded).toBeGreaterThanOrEqual(weights[i - 1].loaded);
    const size = files['model.safetensors'].byteLength;
    expect(weights.at(-1)).toMatchObject({ loaded: size, total: size, progress: 100 });
    const configSize = new TextEncoder().encode(files['config.json']).byteLength;
    const finals = ['config.json', 'model.safetensors'].map((f) => progress.filter((e) => e.file === f).at(-1)!.loaded);
    expect(finals[0] + finals[1]).toBe(configSize + size);

    // The second load makes no request and gives identical weights; the cache holds the two files.
    const again: LoadProgressEvent[] = [];
    const requests = hub.requests.length;
    const second = await loadTiny('hf:test/tiny', { hubEndpoint: hub.endpoint, cacheDir, onProgress: (e) => again.push(e) });
    expect(hub.requests.length).toBe(requests);
    expect(await weightsOf(second)).toEqual(await weightsOf(model));
    expect(again.map((e) => e.status)).toEqual(['initiate', 'done', 'initiate', 'done', 'ready']);
    expect(filesUnder(cacheDir).map((p) => p.slice(cacheDir.length)).sort()).toEqual([
      `/http_127.0.0.1_${new URL(hub.endpoint).port}/test/tiny/resolve/main/config.json`,
      `/http_127.0.0.1_${new URL(hub.endpoint).port}/test/tiny/resolve/main/model.safetensors`,
    ]);
    // Offline, the cache is enough.
    const offline = await loadTiny('hf:test/tiny', { hubEndpoint: hub.endpoint, cacheDir, allowRemote: false });
    expect(hub.requests.length).toBe(requests);
    tf.dispose([model, second, offline].flatMap((m) => Object.values(m.stateDict())));
  });

  it('takes the endpoint from VTOK_HUB_ENDPOINT and a revision from the id', async () => {
    const saved = process.env.VTOK_HUB_ENDPOINT;
    process.env.VTOK_HUB_ENDPOINT = hub.endpoint;
    try {
      const before = hub.requests.length;
      const model = await loadTiny('hf:test/tiny@v1.0', { cacheDir: freshCache() });
      expect(hub.requests.slice(before)).toEqual(['/test/tiny/resolve/v1.0/config.json', '/test/tiny/resolve/v1.0/model.safetensors']);
      model.dispose();
    } finally {
      if (saved === undefined) delete process.env.VTOK_HUB_ENDPOINT;
      else process.env.VTOK_HUB_ENDPOINT = saved;
    }
  });

  it('offline with an empty cache: a FileNotFoundError naming the file and where the cache was looked in, and no request', async () => {
    const cacheDir = freshCache();
    const before = hub.requests.length;
    const error = await loadTiny('hf:test/tiny', { hubEndpoint: hub.endpoint, cacheDir, allowRemote: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileNotFoundError);
    expect((error as Error).message).toMatch(/config\.json was not found at http:\/\/127\.0\.0\.1:\d+\/test\/tiny\/resolve\/main\/config\.json \(offline \(allowRemote: false\) and not in the cache; looked for .*config\.json\)/);
    expect((error as FileNotFoundError).cachePath).toContain(cacheDir);
    expect(hub.requests.length).toBe(before);
  });

  it('a repository the hub does not have: FileNotFoundError with the URL, nothing cached', async () => {
    const cacheDir = freshCache();
    const error = await loadTiny('hf:test/absent', { hubEndpoint: hub.endpoint, cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileNotFoundError);
    expect((error as Error).message).toMatch(/model\.safetensors was not found at http:\/\/127\.0\.0\.1:\d+\/test\/absent\/resolve\/main\/model\.safetensors/);
    expect(filesUnder(cacheDir)).toEqual([]);
  });

  const broken: [string, 'truncate' | 'short-content-length' | 'corrupt' | 'status-500', RegExp][] = [
    ['a body cut short', 'truncate', /connection broke after \d+ of \d+ bytes|received \d+ bytes, but the server announced Content-Length/],
    ['a Content-Length smaller than the file', 'short-content-length', /received \d+ bytes, but the hub announced X-Linked-Size \d+/],
    ['a corrupted byte', 'corrupt', /SHA-256 is [0-9a-f]{64}, but the server announced [0-9a-f]{64}/],
    ['a server error', 'status-500', /HTTP 500/],
  ];
  for (const [what, fault, message] of broken) {
    it(`${what}: a DownloadError naming the URL, and nothing left in the cache`, async () => {
      hub.setRepo(`test/${fault}`, { 'config.json': files['config.json'], 'model.safetensors': { bytes: files['model.safetensors'], fault } });
      const cacheDir = freshCache();
      const error = await loadTiny(`hf:test/${fault}`, { hubEndpoint: hub.endpoint, cacheDir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect((error as DownloadError).url).toBe(`${hub.endpoint}/test/${fault}/resolve/main/model.safetensors`);
      expect((error as Error).message).toMatch(message);
      // The config arrived whole and is cached; the broken weights left no entry and no partial file.
      expect(filesUnder(cacheDir).map((p) => p.split('/').at(-1))).toEqual(['config.json']);
    });
  }

  it('a wrong Content-Length is caught by the safetensors sizes even without the hub headers', async () => {
    const cacheDir = freshCache();
    const bytes = files['model.safetensors'];
    // A server that announces (and so sends) fewer bytes than the file has, and nothing else.
    const fetch = async () => new Response(bytes.slice(0, bytes.byteLength - 16), { headers: { 'content-length': String(bytes.byteLength - 16) } });
    const error = await openModel('https://models.test/tiny/model.safetensors', { fetch, cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/not a complete safetensors file/);
    expect(filesUnder(cacheDir)).toEqual([]);
  });

  it('an unreachable server: a DownloadError with the URL, not a bare TypeError', async () => {
    const closed = await startLocalHub();
    const endpoint = closed.endpoint;
    await closed.close();
    const error = await loadTiny('hf:test/tiny', { hubEndpoint: endpoint, cacheDir: freshCache() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(new RegExp(`downloading ${endpoint.replace(/\./g, '\\.')}/test/tiny/resolve/main/config\\.json failed: the server could not be reached`));
  });

  it('an AbortSignal stops the load with an AbortError and leaves nothing in the cache', async () => {
    hub.setRepo('test/slow', { 'config.json': files['config.json'], 'model.safetensors': { bytes: files['model.safetensors'], chunkBytes: 16 } });
    const cacheDir = freshCache();
    const controller = new AbortController();
    const error = await loadTiny('hf:test/slow', {
      hubEndpoint: hub.endpoint,
      cacheDir,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.status === 'progress' && e.file === 'model.safetensors' && e.loaded > 0) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(filesUnder(cacheDir).map((p) => p.split('/').at(-1))).toEqual(['config.json']);
    const already = await loadTiny('hf:test/slow', { hubEndpoint: hub.endpoint, cacheDir, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(already).toBeInstanceOf(AbortError);
  });
});
