/**
 * The HTTP face of a generation pipeline (node:http, no framework):
 *   GET /generate?class=7&seed=1&steps=8  → one generated image as PNG
 *   GET /health                           → JSON: status, token space, running and waiting generations
 * Requests are validated before any work (400 with a JSON error), generations pass through a
 * concurrency limit with a bounded waiting line (503 beyond it), a client that hangs up stops its
 * generation, and close() lets the running ones finish before the server stops.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import { encodePng } from '@vtok/cli';
import { AbortError, type Pipeline } from '@vtok/core';
import { Busy, Limiter } from './limiter';
import { BadRequest, parseGenerateRequest } from './request';

export interface GenerationServerOptions {
  pipeline: Pipeline;
  /** Generations that run at once; default 2. */
  concurrency?: number;
  /** Generations that may wait for a turn; default 8. Beyond it: 503. */
  queue?: number;
  /** Largest `steps` a request may ask for; default 16. */
  maxSteps?: number;
  /** `steps` when a request names none; default 8. */
  defaultSteps?: number;
  /** Where unexpected errors are reported; default console.error. */
  log?: (message: string) => void;
}

export interface GenerationServer {
  readonly server: Server;
  /** Listens on `host` (loopback unless told otherwise) and resolves with the bound address. */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting requests, lets running and waiting generations finish, then closes every connection. */
  close(): Promise<void>;
}

/** While the server shuts down, a response also ends its keep-alive connection. */
const closingHeaders = (closing: boolean): Record<string, string> => (closing ? { connection: 'close' } : {});

/** PNG bytes of a one-image `[1, H, W, 3]` batch in [0, 1]. */
async function onlyImageAsPng(images: tf.Tensor): Promise<Uint8Array> {
  const image = tf.squeeze(images, [0]) as tf.Tensor3D;
  try {
    return await encodePng(image);
  } finally {
    image.dispose();
  }
}

export function createGenerationServer(options: GenerationServerOptions): GenerationServer {
  const { pipeline, log = (m) => console.error(m) } = options;
  const maxSteps = options.maxSteps ?? 16;
  const defaultSteps = options.defaultSteps ?? Math.min(8, maxSteps);
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new RangeError(`maxSteps must be an integer ≥ 1, got ${maxSteps}`);
  if (!Number.isInteger(defaultSteps) || defaultSteps < 1 || defaultSteps > maxSteps) {
    throw new RangeError(`defaultSteps must be an integer from 1 to maxSteps (${maxSteps}), got ${defaultSteps}`);
  }
  const limits = { numClasses: pipeline.generator.numClasses, maxSteps, defaultSteps };
  const limiter = new Limiter({ concurrency: options.concurrency ?? 2, queue: options.queue ?? 8 });
  let closing = false;

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
      ...closingHeaders(closing),
    });
    res.end(text);
  }

  async function generate(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const { classId, seed, steps } = parseGenerateRequest(query, limits);
    // A client that hangs up (or times out) stops its own generation, queued or running.
    const hangUp = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) hangUp.abort(new Error('the client closed the connection'));
    });
    const png = await limiter.run(async () => {
      // tfjs on wasm or cpu computes a whole generation without handing the event loop a turn (its reads
      // resolve at once), so the server takes one here: hang-ups and new requests are seen between generations.
      await new Promise((resolve) => setImmediate(resolve));
      if (hangUp.signal.aborted) return undefined;
      const images = await pipeline.generate({ classes: [classId], steps, seed, signal: hangUp.signal });
      try {
        return await onlyImageAsPng(images);
      } finally {
        images.dispose();
      }
    });
    if (!png || res.destroyed) return;
    res.writeHead(200, {
      'content-type': 'image/png',
      'content-length': png.byteLength,
      // The same class, seed and steps give the same image.
      'cache-control': 'public, max-age=31536000, immutable',
      ...closingHeaders(closing),
    });
    res.end(png);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') {
      return sendJson(res, 405, { error: `method ${req.method} is not allowed; use GET` }, { allow: 'GET' });
    }
    if (url.pathname === '/health') {
      const { running, waiting } = limiter.stats;
      return sendJson(res, closing ? 503 : 200, { status: closing ? 'closing' : 'ok', tokens: pipeline.tokens, numClasses: limits.numClasses, running, waiting });
    }
    if (url.pathname !== '/generate') {
      return sendJson(res, 404, { error: `no route ${url.pathname}; try GET /generate?class=0 or GET /health` });
    }
    if (closing) return sendJson(res, 503, { error: 'the server is shutting down' });
    await generate(req, res, url.searchParams);
  }

  // Responses not yet sent or abandoned: close() waits for them before it drops the connections.
  const unanswered = new Set<ServerResponse>();
  let allAnswered: (() => void) | undefined;
  const server = createServer((req, res) => {
    unanswered.add(res);
    res.on('close', () => {
      unanswered.delete(res);
      if (unanswered.size === 0) allAnswered?.();
    });
    handle(req, res).catch((error: unknown) => {
      if (error instanceof BadRequest) return sendJson(res, 400, { error: error.message });
      if (error instanceof Busy) return sendJson(res, 503, { error: error.message }, { 'retry-after': '1' });
      if (error instanceof AbortError && res.destroyed) return; // the client left; nobody to answer
      log(`[http-server] ${req.method} ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  return {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      server.listen(port, host);
      await once(server, 'listening');
      return server.address() as AddressInfo;
    },
    async close() {
      closing = true;
      const closed = server.listening ? once(server, 'close') : Promise.resolve();
      server.close();
      await limiter.idle();
      if (unanswered.size) await new Promise<void>((resolve) => (allAnswered = resolve));
      // What is left holds no request: idle keep-alive connections, or ones a client opened and never used.
      server.closeAllConnections();
      await closed;
    },
  };
}
