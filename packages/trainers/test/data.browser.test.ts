// browserImages in a real browser (Debian's headless Chromium): Files decoded with createImageBitmap and read
// through an OffscreenCanvas, cropped and resized there, batched, and a text file refused with its name.
import { bundlePage, launchChromium, type LocalHub, pageHtml, startLocalHub } from '@vtok/test-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataPageResult } from './fixtures/data-page';

describe('browserImages in Chromium', () => {
  let hub: LocalHub;
  let browser: Browser;

  beforeAll(async () => {
    hub = await startLocalHub();
    hub.setPage('/page.js', 'text/javascript', await bundlePage(`${import.meta.dirname}/fixtures/data-page.ts`));
    hub.setPage('/', 'text/html', pageHtml('vtok browser images'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('decodes PNG, WebP, JPEG, ImageData and ImageBitmap to float32 HWC in [0, 1], crops, resizes and batches them', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${hub.endpoint}/`);
    await page.waitForFunction(() => typeof (globalThis as { vtokDataPage?: unknown }).vtokDataPage === 'function', undefined, { timeout: 30_000 });
    const out = await page.evaluate(() => (globalThis as unknown as { vtokDataPage: () => Promise<DataPageResult> }).vtokDataPage());
    expect(errors).toEqual([]);

    // RGB of the RGBA source, over 255.
    const rgb = (rgba: number[]) => rgba.filter((_, i) => i % 4 !== 3).map((v) => Math.fround(v / 255));
    const want = rgb(out.source);
    const [png, webp, jpeg, imageData, bitmap] = out.decoded;
    for (const d of out.decoded) expect(d.shape).toEqual([4, 8, 3]);
    // Lossless paths are exact; the lossy encoders close.
    for (const exact of [png, imageData, bitmap]) expect(exact.image).toEqual(want);
    for (const lossy of [webp, jpeg]) lossy.image.forEach((v, i) => expect(Math.abs(v - want[i]), `value ${i}`).toBeLessThan(0.12));

    // A 4×4 centre crop of an 8×4 image is its columns 2 to 5, unscaled.
    const middle = want.filter((_, i) => Math.floor(i / 3) % 8 >= 2 && Math.floor(i / 3) % 8 < 6);
    expect(out.cropped.map((c) => c.shape)).toEqual(Array(5).fill([4, 4, 3]));
    expect(out.cropped.map((c) => c.label)).toEqual([0, 1, 2, 3, 4]);
    for (const i of [0, 3, 4]) expect(out.cropped[i].image).toEqual(middle);
    expect(out.exactShape).toEqual([3, 5, 3]);
    expect(out.shorterShape).toEqual([2, 4, 3]);
    // Channels 1: the luma of each pixel.
    expect(out.gray.shape).toEqual([4, 8, 1]);
    out.gray.image.forEach((v, p) => {
      const [r, g, b] = out.source.slice(4 * p, 4 * p + 3);
      expect(v).toBeCloseTo((0.299 * r + 0.587 * g + 0.114 * b) / 255, 6);
    });

    expect(out.batchShapes).toEqual([
      [2, 4, 4, 3],
      [2, 4, 4, 3],
      [1, 4, 4, 3],
    ]);
    expect(out.batchLabels).toEqual([[0, 1], [2, 3], [4]]);
    expect(out.notImage.name).toBe('ValueError');
    expect(out.notImage.message).toMatch(/^browserImages: "notes.txt" \(item 1\) cannot be decoded as an image \(type text\/plain\)/);
    expect(out.tensorsAfter).toBe(out.tensorsBefore);
    await page.close();
  });
});
