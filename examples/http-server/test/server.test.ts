// The server on loopback with the zoo's digits models, driven over real HTTP: PNGs, validation,
// a burst of concurrent requests bounded by the limit, a client that hangs up, and a graceful close;
// no request may leave a tensor behind.
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { AbortError, type Pipeline } from '@vtok/core';
import { pretrainedCard } from '@vtok/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DigitsPipeline, loadDigitsPipeline } from '../src/digits';
import { createGenerationServer, type GenerationServer } from '../src/server';

// Loaded CI machines can take a while to get requests to the server.
const POLL = { timeout: 30_000, interval: 20 };
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let digits: DigitsPipeline;
beforeAll(async () => {
  await wasm().activate();
  digits = await loadDigitsPipeline();
});
afterAll(() => digits?.dispose());

/** The pipeline with counts of its generations (running at once, started, stopped by an abort) and an optional gate each waits at. */
function watched(pipeline: Pipeline, gate?: Promise<void>) {
  const counts = { running: 0, peak: 0, started: 0, aborted: 0, lastSignal: undefined as AbortSignal | undefined };
  const wrapped: Pipeline = {
    ...pipeline,
    async generate(options) {
      counts.started++;
      counts.lastSignal = options.signal;
      counts.peak = Math.max(counts.peak, ++counts.running);
      try {
        await gate;
        return await pipeline.generate(options);
      } catch (error) {
        if (error instanceof AbortError) counts.aborted++;
        throw error;
      } finally {
        counts.running--;
      }
    },
  };
  return { pipeline: wrapped, counts };
}

async function start(pipeline: Pipeline, limits: { concurrency: number; queue: number }): Promise<{ app: GenerationServer; base: string }> {
  const app = createGenerationServer({ pipeline, maxSteps: 8, defaultSteps: 2, ...limits, log: () => {} });
  const { address, port } = await app.listen(0);
  expect(address).toBe('127.0.0.1'); // loopback unless told otherwise
  return { app, base: `http://127.0.0.1:${port}` };
}

async function expectPng(response: Response): Promise<Uint8Array> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  const png = new Uint8Array(await response.arrayBuffer());
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  const view = new DataView(png.buffer, png.byteOffset);
  expect([view.getUint32(16), view.getUint32(20)]).toEqual([32, 32]); // IHDR width, height: one 32×32 digit
  return png;
}

/** Waits until the server has no generation running or waiting. */
async function settled(base: string): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${base}/health`)).json()) as { running: number; waiting: number };
    if (health.running === 0 && health.waiting === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the digits HTTP server', () => {
  it('returns PNG digits (the same for the same seed), health, and 400/404/405 as JSON', async () => {
    const { app, base } = await start(digits.pipeline, { concurrency: 2, queue: 8 });
    const before = tf.memory().numTensors;
    const first = await expectPng(await fetch(`${base}/generate?class=7&seed=1&steps=2`));
    const again = await expectPng(await fetch(`${base}/generate?class=7&seed=1&steps=2`));
    expect(again).toEqual(first);
    await expectPng(await fetch(`${base}/generate?class=3`)); // default steps, random seed

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', tokens: pretrainedCard('digits-vqgan').tokens, numClasses: 10, running: 0, waiting: 0 });

    const bad: Array<[string, RegExp]> = [
      ['class=10', /"class" must be an integer from 0 to 9, got "10"/],
      ['class=-1', /"class" must be an integer from 0 to 9/],
      ['class=seven', /"class" must be an integer from 0 to 9, got "seven"/],
      ['', /"class" is required/],
      ['class=1&steps=0', /"steps" must be an integer from 1 to 8, got "0"/],
      ['class=1&steps=9', /"steps" must be an integer from 1 to 8/],
      ['class=1&seed=1.5', /"seed" must be an integer from 0 to 4294967295, got "1.5"/],
      ['class=1&seed=99999999999', /"seed" must be an integer/],
      ['class=1&class=2', /"class" was given 2 times/],
      ['class=1&guidance=9', /unknown parameter "guidance"; expected class, seed, steps/],
    ];
    for (const [query, message] of bad) {
      const response = await fetch(`${base}/generate?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    const post = await fetch(`${base}/generate?class=1`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
    expect(tf.memory().numTensors).toBe(before);
    await app.close();
    expect(() => createGenerationServer({ pipeline: digits.pipeline, maxSteps: 8, defaultSteps: 9 })).toThrow(
      'defaultSteps must be an integer from 1 to maxSteps (8), got 9',
    );
  });

  it('holds a burst of 20 concurrent requests at 2 running and 8 waiting: PNG or 503, no crash, no leak', async () => {
    const { pipeline, counts } = watched(digits.pipeline);
    const { app, base } = await start(pipeline, { concurrency: 2, queue: 8 });
    const before = tf.memory().numTensors;
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${base}/generate?class=${i % 10}&seed=${i}&steps=2`)));
    let served = 0;
    for (const response of responses) {
      if (response.status === 503) {
        expect(response.headers.get('retry-after')).toBe('1');
        expect(((await response.json()) as { error: string }).error).toMatch(/^busy: 2 generations running and 8 waiting$/);
      } else {
        await expectPng(response);
        served++;
      }
    }
    // A request is turned away only while 2 run and 8 wait, and those 10 are all served.
    expect(served).toBeGreaterThanOrEqual(10);
    expect(counts.peak).toBeLessThanOrEqual(2);
    expect(counts.started).toBe(served);
    expect((await fetch(`${base}/health`)).status).toBe(200); // still up
    expect(tf.memory().numTensors).toBe(before);
    await app.close();
  });

  it('turns a request away with 503 while the limit and the line are full, and serves it again after', async () => {
    let open!: () => void;
    const { pipeline } = watched(digits.pipeline, new Promise<void>((resolve) => (open = resolve)));
    const { app, base } = await start(pipeline, { concurrency: 1, queue: 1 });
    const running = fetch(`${base}/generate?class=1&seed=1&steps=2`);
    const waiting = fetch(`${base}/generate?class=2&seed=2&steps=2`);
    await expect.poll(async () => (await (await fetch(`${base}/health`)).json()) as object, POLL).toMatchObject({ running: 1, waiting: 1 });
    const turnedAway = await fetch(`${base}/generate?class=3&seed=3&steps=2`);
    expect(turnedAway.status).toBe(503);
    open();
    await expectPng(await running);
    await expectPng(await waiting);
    await expectPng(await fetch(`${base}/generate?class=3&seed=3&steps=2`));
    await app.close();
  });

  it('stops the generations of clients that hang up, running or waiting, and leaks nothing', async () => {
    let open!: () => void;
    const { pipeline, counts } = watched(digits.pipeline, new Promise<void>((resolve) => (open = resolve)));
    const { app, base } = await start(pipeline, { concurrency: 1, queue: 4 });
    const before = tf.memory().numTensors;
    const clients = Array.from({ length: 3 }, () => new AbortController());
    const requests = clients.map((client, i) => fetch(`${base}/generate?class=${i}&steps=8`, { signal: client.signal }).catch((e: Error) => e.name));
    await expect.poll(async () => (await (await fetch(`${base}/health`)).json()) as object, POLL).toMatchObject({ running: 1, waiting: 2 });
    for (const client of clients) client.abort();
    expect(await Promise.all(requests)).toEqual(['AbortError', 'AbortError', 'AbortError']);
    await expect.poll(() => counts.lastSignal?.aborted, POLL).toBe(true); // the server has read the hang-ups
    await new Promise((r) => setTimeout(r, 50));
    open();
    await settled(base);
    // The running one (held at the gate, so the server reads the hang-up) stops at its first step; the two waiting never start.
    expect(counts).toMatchObject({ started: 1, aborted: 1 });
    await expectPng(await fetch(`${base}/generate?class=4&seed=4&steps=2`));
    expect(tf.memory().numTensors).toBe(before);
    await app.close();
  });

  it('closes gracefully: the running generation is answered, new requests are refused', async () => {
    let open!: () => void;
    const { pipeline } = watched(digits.pipeline, new Promise<void>((resolve) => (open = resolve)));
    const { app, base } = await start(pipeline, { concurrency: 1, queue: 1 });
    const running = fetch(`${base}/generate?class=5&seed=5&steps=2`);
    await expect.poll(async () => (await (await fetch(`${base}/health`)).json()) as object, POLL).toMatchObject({ running: 1 });
    const closed = app.close();
    await expect(fetch(`${base}/health`)).rejects.toThrow(); // the listening socket is gone
    open();
    await expectPng(await running);
    await closed;
    expect(app.server.listening).toBe(false);
  });
});
