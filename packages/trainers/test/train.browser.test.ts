// Training in a browser tab (Debian's headless Chromium): images the page made as PNG Files train a tiny
// tokenizer through browserImages and trainTokenizer until the loss falls; a fine-tune stops on its
// AbortSignal; the trained model saves to in-memory files and loads back with the same tokens; no tensor is
// left. The page runs the cpu backend: the point is the training code in a browser, not a backend's speed
// (recipes.backend.test.ts trains the same way on every backend).
import { bundlePage, launchChromium, type LocalHub, pageHtml, startLocalHub } from '@vtok/test-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainPageResult } from './fixtures/train-page';

describe('training in Chromium', () => {
  let hub: LocalHub;
  let browser: Browser;

  beforeAll(async () => {
    hub = await startLocalHub();
    hub.setPage('/page.js', 'text/javascript', await bundlePage(`${import.meta.dirname}/fixtures/train-page.ts`));
    hub.setPage('/', 'text/html', pageHtml('vtok training in a tab'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('trains a tokenizer on browser image files, stops on an AbortSignal, saves and reloads it, leaks nothing', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hub.endpoint}/`);
    await page.waitForFunction(() => typeof (globalThis as { vtokTrainPage?: unknown }).vtokTrainPage === 'function', undefined, { timeout: 30_000 });
    const out = await page.evaluate(() => (globalThis as unknown as { vtokTrainPage: () => Promise<TrainPageResult> }).vtokTrainPage());
    expect(errors).toEqual([]);
    expect(out.backend).toBe('cpu');
    expect(out.losses).toHaveLength(5);
    expect(out.losses.every(Number.isFinite)).toBe(true);
    expect(out.losses.at(-1)!).toBeLessThan(out.losses[0]! * 0.9);
    expect(out.aborted.name).toBe('AbortError');
    expect(out.aborted.steps).toBe(2);
    expect(out.savedFiles).toEqual(['config.json', 'model.safetensors']);
    expect(out.sameTokensAfterReload).toBe(true);
    expect(out.tensorsAfter).toBe(out.tensorsBefore);
    await page.close();
  }, 300_000);
});
