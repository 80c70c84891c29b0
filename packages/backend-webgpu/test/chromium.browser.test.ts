// WebGPU end to end in a real browser: Debian's Chromium, headless, on SwiftShader (a CPU Vulkan
// driver, so no GPU is needed). The page bundles tfjs-core, tfjs-backend-webgpu, @vtok/core and this
// package from source, selects WebGPU through useBackend([webgpu()]) and runs a matmul and a
// layer-norm-like composite; the results are checked against float64 references computed here.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bundlePage, CHROMIUM_PATH, launchChromium, pageHtml } from '@vtok/test-utils';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageInput, PageOutput } from './fixtures/page';

const executablePath = CHROMIUM_PATH;

function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

function matmul64(a: number[], [m, k]: [number, number], b: number[], [, n]: [number, number]): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
    out[i * n + j] = s;
  }
  return out;
}

function layerNorm64(x: number[], [rows, cols]: [number, number], gamma: number[], beta: number[], eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = x.slice(r * cols, (r + 1) * cols);
    const mean = row.reduce((s, v) => s + v, 0) / cols;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / cols;
    row.forEach((v, c) => out.push(((v - mean) / Math.sqrt(variance + eps)) * gamma[c] + beta[c]));
  }
  return out;
}

function maxError(got: number[], want: number[]): number {
  expect(got.length).toBe(want.length);
  return Math.max(...want.map((w, i) => Math.abs(got[i] - w) / (1 + Math.abs(w))));
}

// vitest.config.ts runs this project only where Chromium exists; a missing browser here is a failure.
describe('@vtok/backend-webgpu in Chromium (SwiftShader)', () => {
  it('has a Chromium to drive', () => expect(existsSync(executablePath), executablePath).toBe(true));

  let server: Server;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const script = await bundlePage(join(import.meta.dirname, 'fixtures', 'page.ts'));
    const html = pageHtml('vtok webgpu');
    server = createServer((req, res) => {
      if (req.url === '/page.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      } else if (req.url === '/' || req.url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;

    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => typeof (globalThis as { vtokRun?: unknown }).vtokRun === 'function', undefined, { timeout: 30_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  });

  it('selects WebGPU through useBackend and matches float64 references for matmul and layer norm', async () => {
    const aShape: [number, number] = [33, 70];
    const bShape: [number, number] = [70, 29];
    const xShape: [number, number] = [6, 96];
    const input: PageInput = {
      a: values(33 * 70, 1),
      aShape,
      b: values(70 * 29, 2),
      bShape,
      x: values(6 * 96, 3).map((v, i) => v * 3 + (i % 7)),
      xShape,
      gamma: values(96, 4).map((v) => 1 + v / 2),
      beta: values(96, 5),
      eps: 1e-5,
    };
    const out = await page.evaluate((i) => (globalThis as unknown as { vtokRun: (i: PageInput) => Promise<PageOutput> }).vtokRun(i), input);

    expect(pageErrors).toEqual([]);
    expect(out.backend).toBe('webgpu');
    expect(out.info.name).toBe('webgpu');
    expect(out.info.device).toMatch(/swiftshader/i);
    expect(out.info.reasonsOthersFailed).toEqual([]);
    expect(maxError(out.matmul, matmul64(input.a, aShape, input.b, bShape))).toBeLessThan(1e-4);
    expect(maxError(out.layerNorm, layerNorm64(input.x, xShape, input.gamma, input.beta, input.eps))).toBeLessThan(1e-4);
    expect(out.tensorsAfter).toBe(out.tensorsBefore);
  });
});
