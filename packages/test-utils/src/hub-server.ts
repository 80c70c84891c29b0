/**
 * A local hub for loading tests: an HTTP server on 127.0.0.1 (an ephemeral port, loopback only) that
 * serves repositories in the hub's layout, `/{owner}/{name}/resolve/{revision}/{file}`, from memory.
 * It counts requests, announces sizes and SHA-256 as the Hugging Face hub does for large files
 * (Content-Length, X-Linked-Size, X-Linked-Etag), and can misbehave on purpose for one file:
 * cut the body short, announce a wrong Content-Length, or corrupt a byte.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export type HubFault = 'truncate' | 'short-content-length' | 'corrupt' | 'status-500';

export interface HubFile {
  bytes: Uint8Array;
  /** Misbehave when this file is served. */
  fault?: HubFault;
  /** Serve slowly, in chunks of this many bytes (default: all at once). */
  chunkBytes?: number;
}

export interface LocalHub {
  /** The endpoint to pass as `hubEndpoint` (http://127.0.0.1:port). */
  readonly endpoint: string;
  /** Every request path, in order. */
  readonly requests: string[];
  /** Adds or replaces a repository: files by name, served at every revision. */
  setRepo(id: string, files: Record<string, Uint8Array | string | HubFile>): void;
  /** Serves a page or script at an absolute path (for browser tests: same origin as the hub). */
  setPage(path: string, contentType: string, body: string): void;
  close(): Promise<void>;
}

const asFile = (f: Uint8Array | string | HubFile): HubFile =>
  typeof f === 'string' ? { bytes: new TextEncoder().encode(f) } : f instanceof Uint8Array ? { bytes: f } : f;

function respond(file: HubFile, req: IncomingMessage, res: ServerResponse): void {
  const { bytes } = file;
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (file.fault === 'status-500') {
    res.writeHead(500, 'Internal Server Error').end('broken');
    return;
  }
  const headers = [
    'HTTP/1.1 200 OK',
    'Content-Type: application/octet-stream',
    `Content-Length: ${file.fault === 'short-content-length' ? bytes.byteLength - 64 : bytes.byteLength}`,
    `X-Linked-Size: ${bytes.byteLength}`,
    `X-Linked-Etag: "${sha}"`,
    'Connection: close',
  ];
  // Raw socket writes, so the faults reach the client exactly as a broken server would send them.
  const socket = req.socket;
  socket.write(`${headers.join('\r\n')}\r\n\r\n`);
  let body = bytes;
  if (file.fault === 'corrupt') {
    body = bytes.slice();
    body[body.byteLength - 1] ^= 0xff;
  }
  if (file.fault === 'truncate') {
    socket.end(body.subarray(0, Math.floor(body.byteLength / 2)));
    return;
  }
  const step = file.chunkBytes ?? body.byteLength;
  // Chunks go out a millisecond apart, so the client sees them as separate reads, as over a network.
  const send = (at: number): void => {
    if (at >= body.byteLength || socket.destroyed) {
      socket.end();
      return;
    }
    socket.write(body.subarray(at, at + step));
    setTimeout(() => send(at + step), 1);
  };
  send(0);
}

/** Starts a local hub; close it when the tests are done. */
export async function startLocalHub(): Promise<LocalHub> {
  const repos = new Map<string, Map<string, HubFile>>();
  const requests: string[] = [];
  const pages = new Map<string, { contentType: string; body: string }>();
  const server: Server = createServer((req, res) => {
    const page = pages.get((req.url ?? '').split('?')[0]);
    if (page) {
      res.writeHead(200, { 'Content-Type': page.contentType }).end(page.body);
      return;
    }
    requests.push(req.url ?? '');
    const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURI((req.url ?? '').split('?')[0]));
    const file = m ? repos.get(`${m[1]}/${m[2]}`)?.get(m[4]) : undefined;
    if (!file) {
      res.writeHead(404, 'Not Found', { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    respond(file, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setRepo(id, files) {
      repos.set(id, new Map(Object.entries(files).map(([name, f]) => [name, asFile(f)])));
    },
    setPage(path, contentType, body) {
      pages.set(path, { contentType, body });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What `expectHubRoundTrip` needs of a model package: its loader and the model's state dict. */
export interface HubLoadable<M> {
  load(source: string, options: { hubEndpoint: string; cacheDir: string; onProgress: (e: { status: string }) => void }): Promise<M>;
  stateDict(model: M): Record<string, { data(): Promise<ArrayLike<number>> }>;
  dispose(model: M): void;
}

/**
 * Serves `files` as `hf:test/<name>` from `hub`, loads it twice through the package's loader and checks
 * what every loader must do: the first load downloads and reports progress ending in `ready`, the second
 * makes no request, and both give the weights of `reference`.
 */
export async function expectHubRoundTrip<M>(
  { hub, cacheDir }: { hub: LocalHub; cacheDir: string },
  name: string,
  files: Record<string, Uint8Array | string>,
  loader: HubLoadable<M>,
  reference: M,
): Promise<void> {
  hub.setRepo(`test/${name}`, files);
  const events: string[] = [];
  const before = hub.requests.length;
  const options = { hubEndpoint: hub.endpoint, cacheDir, onProgress: (e: { status: string }) => events.push(e.status) };
  const first = await loader.load(`hf:test/${name}`, options);
  const requested = hub.requests.slice(before);
  if (requested.length === 0 || !requested.every((r) => r.startsWith(`/test/${name}/resolve/main/`))) {
    throw new Error(`expected downloads from /test/${name}/resolve/main/, got ${JSON.stringify(requested)}`);
  }
  const expected = ['initiate', 'download', 'progress', 'done', 'ready'];
  if (events.at(-1) !== 'ready' || !expected.every((s) => events.includes(s))) throw new Error(`progress events out of order: ${events.join(', ')}`);
  const afterFirst = hub.requests.length;
  const second = await loader.load(`hf:test/${name}`, options);
  try {
    if (hub.requests.length !== afterFirst) throw new Error(`the second load made ${hub.requests.length - afterFirst} requests; the cache should have served it`);
    const want = loader.stateDict(reference);
    for (const model of [first, second]) {
      const got = loader.stateDict(model);
      const names = Object.keys(want).sort();
      if (JSON.stringify(Object.keys(got).sort()) !== JSON.stringify(names)) throw new Error('the loaded model has other state-dict names than the reference');
      for (const key of names) {
        const [a, b] = [await got[key].data(), await want[key].data()];
        if (a.length !== b.length || Array.prototype.some.call(a, (v: number, i: number) => !Object.is(v, b[i]))) throw new Error(`${key} differs from the reference`);
      }
    }
  } finally {
    loader.dispose(first);
    loader.dispose(second);
  }
}

/**
 * A local hub and a cache folder for one test file: started before its tests, closed and removed after.
 * Read `hub` and `cacheDir` inside tests (they exist once beforeAll has run).
 */
export function useLocalHub(): { readonly hub: LocalHub; readonly cacheDir: string } {
  let hub: LocalHub | undefined;
  let cacheDir: string | undefined;
  beforeAll(async () => {
    hub = await startLocalHub();
    cacheDir = mkdtempSync(join(tmpdir(), 'vtok-hub-cache-'));
  });
  afterAll(async () => {
    await hub?.close();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });
  return {
    get hub() {
      if (!hub) throw new Error('useLocalHub: the hub starts in beforeAll; use it inside tests');
      return hub;
    },
    get cacheDir() {
      if (!cacheDir) throw new Error('useLocalHub: the cache folder is made in beforeAll; use it inside tests');
      return cacheDir;
    },
  };
}
