// The browser demo end to end in Debian's headless Chromium: built with Vite as a user builds it, served
// from loopback, driven with the mouse and a file upload. With WebGPU (SwiftShader) it reports webgpu,
// tokenizes a drawn digit and generates one step by step; without WebGPU it falls back to wasm and does
// the same from uploads. Screenshots of both runs are kept in test-artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_PATH, CHROMIUM_WEBGPU_ARGS, launchChromium } from '@vtok/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, serveFolder } from './static-server';

const demo = join(import.meta.dirname, '..');
const artifacts = join(demo, 'test-artifacts');
// SwiftShader runs WebGPU on the CPU: model loading and every step are slow.
const slow = 240_000;

/** The luminance variance of a canvas's pixels: 0 for a blank canvas. */
function canvasVariance(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const values: number[] = [];
    for (let i = 0; i < data.length; i += 4) values.push((data[i] + data[i + 1] + data[i + 2]) / 3);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    return values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  }, id);
}

async function openDemo(page: Page, url: string, errors: string[]): Promise<void> {
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await waitUntilReady(page);
  expect(await page.locator('#load-progress').evaluate((bar) => (bar as HTMLProgressElement).value)).toBe(100);
}

const tensorCount = async (page: Page) => Number(await page.locator('#tensors').getAttribute('data-tensors'));

/** The ids shown in the token grid. */
async function shownTokens(page: Page): Promise<number[]> {
  return ((await page.locator('#tokens').textContent()) ?? '').trim().split(/\s+/).map(Number);
}

/** Waits for the page to finish what it is doing; fails with the page's message if that was an error. */
async function waitUntilReady(page: Page): Promise<void> {
  const status = page.locator('#status');
  await page.locator('#status[data-state="ready"], #status[data-state="error"]').waitFor({ timeout: slow });
  expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('ready');
}

/** Generates `digit` in `steps` steps; returns the steps the canvas showed, in order. */
async function generate(page: Page, digit: number, steps: number): Promise<number[]> {
  await page.evaluate(() => {
    const canvas = document.getElementById('generated') as HTMLCanvasElement;
    const seen: number[] = [];
    (globalThis as { seenSteps?: number[] }).seenSteps = seen;
    new MutationObserver(() => seen.push(Number(canvas.dataset.step))).observe(canvas, { attributeFilter: ['data-step'] });
  });
  await page.selectOption('#class', String(digit));
  await page.fill('#steps', String(steps));
  await page.click('#generate');
  await page.locator('#generated[data-done="true"]').waitFor({ timeout: slow });
  await waitUntilReady(page);
  return page.evaluate(() => (globalThis as { seenSteps?: number[] }).seenSteps ?? []);
}

describe('the browser demo in Chromium', () => {
  let out: string;
  let server: StaticServer;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'vtok-browser-demo-'));
    await build({ root: demo, logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    server = await serveFolder(out);
    mkdirSync(artifacts, { recursive: true });
  }, slow);

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('runs on WebGPU: tokenizes a drawn digit and unmasks a generated one step by step, leaking no tensor', async () => {
    const browser = await launchChromium();
    browsers.push(browser);
    const page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
    const errors: string[] = [];
    await openDemo(page, `${server.url}/?backend=webgpu`, errors);

    expect(await page.locator('#backend').getAttribute('data-backend')).toBe('webgpu');
    expect(await page.locator('#backend').textContent()).toMatch(/swiftshader/i);
    const loaded = await tensorCount(page);

    // A 7, drawn with the mouse.
    const pad = (await page.locator('#pad').boundingBox())!;
    const point = (x: number, y: number): [number, number] => [pad.x + x * pad.width, pad.y + y * pad.height];
    await page.mouse.move(...point(0.25, 0.2));
    await page.mouse.down();
    await page.mouse.move(...point(0.75, 0.2), { steps: 8 });
    await page.mouse.move(...point(0.4, 0.85), { steps: 12 });
    await page.mouse.up();
    await page.locator('#tokens[data-count="64"]').waitFor({ timeout: slow });
    await waitUntilReady(page);
    const tokens = await shownTokens(page);
    expect(tokens).toHaveLength(64);
    for (const id of tokens) expect(id >= 0 && id < 256 && Number.isInteger(id), `token ${id}`).toBe(true);
    expect(await canvasVariance(page, 'input')).toBeGreaterThan(500);
    expect(await canvasVariance(page, 'reconstruction')).toBeGreaterThan(500);
    const psnr = Number(/PSNR ([\d.]+) dB/.exec((await page.locator('#encode-info').textContent()) ?? '')?.[1]);
    expect(psnr).toBeGreaterThan(12);
    expect(await page.locator('#encode-info').textContent()).toContain('64 bytes');

    expect(await generate(page, 3, 3)).toEqual([1, 2, 3]);
    expect(await canvasVariance(page, 'generated')).toBeGreaterThan(500);
    expect(await page.locator('#generated-tokens').textContent()).not.toContain('·');

    expect(await tensorCount(page)).toBe(loaded);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'webgpu.png'), fullPage: true });
  }, slow * 2);

  it('on auto, prefers wasm to a software-only WebGPU adapter and says so', async () => {
    const browser = await launchChromium();
    browsers.push(browser);
    const page = await browser.newPage();
    const errors: string[] = [];
    await openDemo(page, `${server.url}/`, errors);
    expect(await page.locator('#backend').getAttribute('data-backend')).toBe('wasm');
    expect(await page.locator('#backend-notes').textContent()).toMatch(/^not webgpu: only a software adapter is present .*slower than wasm/);
    expect(errors).toEqual([]);
  }, slow);

  it('falls back to wasm without WebGPU: an uploaded digit is tokenized, a non-image refused, a generation completes', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_WEBGPU_ARGS.filter((a) => !/webgpu|vulkan/i.test(a)), '--disable-features=WebGPU'],
    });
    browsers.push(browser);
    const page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
    const errors: string[] = [];
    await openDemo(page, `${server.url}/?backend=webgpu`, errors);

    expect(await page.locator('#backend').getAttribute('data-backend')).toBe('wasm');
    expect(await page.locator('#backend-notes').textContent()).toMatch(/^not webgpu: no WebGPU adapter was found/);
    const loaded = await tensorCount(page);

    // A 1 drawn on the pad, uploaded as a PNG file.
    await page.evaluate(() => {
      const context = (document.getElementById('pad') as HTMLCanvasElement).getContext('2d')!;
      Object.assign(context, { strokeStyle: '#fff', lineWidth: 18, lineCap: 'round' });
      context.beginPath();
      context.moveTo(112, 40);
      context.lineTo(112, 184);
      context.stroke();
    });
    const png = await page.locator('#pad').screenshot();
    await page.setInputFiles('#upload', { name: 'one.png', mimeType: 'image/png', buffer: png });
    await page.locator('#tokens[data-count="64"]').waitFor({ timeout: slow });
    await waitUntilReady(page);
    expect(await shownTokens(page)).toHaveLength(64);
    expect(await canvasVariance(page, 'reconstruction')).toBeGreaterThan(500);

    await page.setInputFiles('#upload', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    await page.locator('#status[data-state="error"]').waitFor({ timeout: slow });
    expect(await page.locator('#status').textContent()).toMatch(/"notes\.txt".*cannot be decoded as an image/);

    expect(await generate(page, 7, 2)).toEqual([1, 2]);
    expect(await canvasVariance(page, 'generated')).toBeGreaterThan(500);
    expect(await tensorCount(page)).toBe(loaded);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(artifacts, 'wasm.png'), fullPage: true });
  }, slow * 2);
});
