// loadTiTok in a real browser (Debian's headless Chromium): a hub id on the page's origin (a local hub
// on 127.0.0.1), files kept in the Cache API, transformers.js-style progress, offline from the cache.
import * as tf from '@tensorflow/tfjs-core';
import { bundlePage, goldenCase, launchChromium, type LocalHub, pageHtml, startLocalHub } from '@vtok/test-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTiTok } from '../src';
import type { HubPageResult } from './fixtures/hub-page';
import { officialFiles } from './helpers';

describe('loadTiTok in Chromium', () => {
  let hub: LocalHub;
  let browser: Browser;
  const tiny = goldenCase('titok_tiny');

  beforeAll(async () => {
    hub = await startLocalHub();
    hub.setRepo('test/titok-tiny', officialFiles(tiny));
    hub.setPage('/page.js', 'text/javascript', await bundlePage(`${import.meta.dirname}/fixtures/hub-page.ts`));
    hub.setPage('/', 'text/html', pageHtml('vtok hub load'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('loads hf:test/titok-tiny with progress, keeps it in the Cache API, loads again and offline without a request', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hub.endpoint}/`);
    await page.waitForFunction(() => typeof (globalThis as { vtokHubLoad?: unknown }).vtokHubLoad === 'function', undefined, { timeout: 30_000 });
    const imageSize = tiny.config.image_size as number;
    const out = await page.evaluate(
      ([id, size]) => (globalThis as unknown as { vtokHubLoad: (id: string, size: number) => Promise<HubPageResult> }).vtokHubLoad(id, size),
      ['hf:test/titok-tiny', imageSize] as [string, number],
    );
    expect(errors).toEqual([]);
    // Two downloads, one per file; the loads after it asked the hub for nothing.
    expect(hub.requests.filter((r) => r !== '/favicon.ico')).toEqual(['/test/titok-tiny/resolve/main/config.json', '/test/titok-tiny/resolve/main/model.safetensors']);
    expect(out.cached.sort()).toEqual(['/test/titok-tiny/resolve/main/config.json', '/test/titok-tiny/resolve/main/model.safetensors']);
    expect(out.offlineLoaded).toBe(true);
    const weights = out.events.filter((e) => 'file' in e && e.file === 'model.safetensors').map((e) => e.status);
    expect(weights[0]).toBe('initiate');
    expect(weights[1]).toBe('download');
    expect(weights.at(-1)).toBe('done');
    const last = out.events.filter((e) => e.status === 'progress' && e.file === 'model.safetensors').at(-1);
    expect(last).toMatchObject({ loaded: tiny.weightsBytes.byteLength, total: tiny.weightsBytes.byteLength });
    expect(out.events.at(-1)).toMatchObject({ status: 'ready', name: 'hf:test/titok-tiny', model: 'TiTok' });
    expect(out.eventsAgain).toEqual(['initiate', 'done', 'initiate', 'done', 'ready']);
    expect(out.tensorsAfter).toBe(out.tensorsBefore);

    // The browser loaded the same weights, and encodes like Node does.
    const model = await loadTiTok(officialFiles(tiny));
    for (const [name, v] of Object.entries(model.stateDict())) {
      const data = await v.data();
      const [sum, length] = out.checksums[name];
      expect(length, name).toBe(data.length);
      expect(sum, name).toBeCloseTo(Array.from(data).reduce((s, x) => s + x, 0), 3);
    }
    const image = tf.fill([1, imageSize, imageSize, 3], 0.5);
    const tokens = (await model.encode(image)) as tf.Tensor;
    expect(out.tokens).toEqual(Array.from(await tokens.data()));
    tf.dispose([image, tokens]);
    model.dispose();
    await page.close();
  });
});
