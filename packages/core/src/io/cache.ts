/**
 * One cache for remote files, keyed by URL: a folder in Node (`VTOK_CACHE_DIR`, default the user's
 * cache folder + `vtok`), the Cache API in browsers. An entry appears only once its file arrived whole
 * (Node: written under a temporary name, flushed, renamed; browser: put after the download was
 * checked), so a broken download never leaves anything behind.
 */
import { envVar, isNode, nodeFs, nodeModule, nodePath, platform, randomSuffix } from './env';
import { fileFromStream, openLocalFile, type OpenedFile } from './file';

/** Receives a download; `commit` makes it an entry, `abort` drops it. */
export interface CacheWriter {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface FileCache {
  /** Where entries live, for messages: a folder, or `Cache API "vtok"`. */
  readonly location: string;
  /** Where the entry for `url` is or would be. */
  entryLocation(url: string): Promise<string>;
  get(url: string): Promise<OpenedFile | undefined>;
  begin(url: string): Promise<CacheWriter>;
}

/** `VTOK_CACHE_DIR`, else the platform's user cache folder + `vtok`. */
export async function defaultCacheDir(): Promise<string> {
  const fromEnv = envVar('VTOK_CACHE_DIR');
  if (fromEnv) return fromEnv;
  const os = await nodeModule<typeof import('node:os')>('node:os');
  const path = await nodePath();
  const home = os.homedir();
  if (platform() === 'win32') return path.join(envVar('LOCALAPPDATA') ?? path.join(home, 'AppData', 'Local'), 'vtok', 'cache');
  if (platform() === 'darwin') return path.join(home, 'Library', 'Caches', 'vtok');
  return path.join(envVar('XDG_CACHE_HOME') ?? path.join(home, '.cache'), 'vtok');
}

/** A readable, collision-free relative path for a URL: host, then the URL's path segments. */
export function cacheKeyPath(url: string): string[] {
  const u = new URL(url);
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._@=+-]/g, '_').replace(/^\.+$/, '_');
  const segments = u.pathname.split('/').filter(Boolean).map((s) => clean(decodeURIComponent(s)));
  if (u.search) segments[segments.length - 1] = `${segments.at(-1) ?? 'index'}_${clean(u.search.slice(1))}`;
  if (segments.length === 0) segments.push('index');
  return [clean(`${u.protocol.replace(':', '')}_${u.host}`), ...segments];
}

export function folderCache(dir: string): FileCache {
  const entryPath = async (url: string) => (await nodePath()).join(dir, ...cacheKeyPath(url));
  return {
    location: dir,
    entryLocation: entryPath,
    async get(url) {
      return openLocalFile(await entryPath(url));
    },
    async begin(url) {
      const fs = await nodeFs();
      const path = await nodePath();
      const target = await entryPath(url);
      await fs.mkdir(path.dirname(target), { recursive: true });
      const temporary = `${target}.${randomSuffix()}.partial`;
      const handle = await fs.open(temporary, 'wx');
      let open = true;
      const closeHandle = async () => {
        if (open) {
          open = false;
          await handle.close();
        }
      };
      return {
        async write(chunk) {
          let written = 0;
          while (written < chunk.byteLength) written += (await handle.write(chunk, written, chunk.byteLength - written)).bytesWritten;
        },
        async commit() {
          await handle.sync();
          await closeHandle();
          await fs.rename(temporary, target);
        },
        async abort() {
          await closeHandle().catch(() => undefined);
          await fs.rm(temporary, { force: true });
        },
      };
    },
  };
}

interface CacheStorageLike {
  open(name: string): Promise<{ match(url: string): Promise<Response | undefined>; put(url: string, response: Response): Promise<void> }>;
}

/** The browser's Cache API (`caches`), under one cache name. */
export function browserCache(name = 'vtok', storage?: CacheStorageLike): FileCache {
  const caches = () => storage ?? (globalThis as { caches?: CacheStorageLike }).caches!;
  return {
    location: `Cache API "${name}"`,
    entryLocation: async (url) => `Cache API "${name}": ${url}`,
    async get(url) {
      const response = await (await caches().open(name)).match(url);
      if (!response?.body) return undefined;
      const length = Number(response.headers.get('content-length'));
      return fileFromStream(response.body, `${url} (from the Cache API)`, Number.isFinite(length) && length > 0 ? length : undefined);
    },
    async begin(url) {
      const chunks: Uint8Array[] = [];
      return {
        async write(chunk) {
          chunks.push(chunk.slice());
        },
        async commit() {
          const blob = new Blob(chunks as BlobPart[]);
          await (await caches().open(name)).put(url, new Response(blob, { headers: { 'content-length': String(blob.size) } }));
        },
        async abort() {
          chunks.length = 0;
        },
      };
    },
  };
}

/** The default cache here: a folder in Node, the Cache API where there is one, none elsewhere. */
export async function defaultCache(cacheDir?: string): Promise<FileCache | undefined> {
  if (isNode()) return folderCache(cacheDir ?? (await defaultCacheDir()));
  if ((globalThis as { caches?: unknown }).caches) return browserCache();
  return undefined;
}

