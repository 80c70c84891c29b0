/**
 * A local hub for loading tests: an HTTP server on 127.0.0.1 (an ephemeral port, loopback only) that
 * serves repositories in the hub's layout, `/{owner}/{name}/resolve/{revision}/{file}`, from memory.
 * It counts requests, announces sizes and SHA-256 as the Hugging Face hub does for large files
 * (Content-Length, X-Linked-Size, X-Linked-Etag), and can misbehave on purpose for one file:
 * cut the body short, announce a wrong Content-Length, or corrupt a byte.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  const server: Server = createServer((req, res) => {
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
