/**
 * A token file written batch by batch so that a killed run, started again with the same arguments, goes
 * on where it stopped and ends with the same bytes as a run that was never stopped. The records go to
 * `<target>.partial` (a small header of its own, then the packed records), flushed after every batch; its
 * length is the progress marker. A re-run keeps the whole batches it finds and drops a torn one; a partial
 * file of another run (other header or batch size) is started again. The finished file is written
 * atomically (core's `saveFile`) and the partial file removed; a re-run of a finished file does nothing.
 */
import { nodeModule, saveFile } from '@vtok/core';
import { OutputError } from './errors';
import { packEntries, parseTokenFile, tokenFileChunks, type TokenFileHeader } from './token-file';

type Fs = typeof import('node:fs/promises');
type FileHandle = Awaited<ReturnType<Fs['open']>>;

const PARTIAL_MAGIC = 'VTOKPART';
const READ_CHUNK = 1 << 20;

export interface ResumableTokenFile {
  /** Entries already written by an earlier run; the caller encodes from here on. */
  readonly done: number;
  /** Why an earlier partial file was set aside and the run started again, when that happened. */
  readonly restarted?: string;
  /** The next entries' tokens (whole entries, in order). */
  append(tokens: Int32Array): Promise<void>;
  /** Writes the token file (every entry must have been appended) and removes the partial file. */
  finish(): Promise<void>;
  /** Closes the partial file without finishing (the run can be resumed). */
  close(): Promise<void>;
}

export const partialPath = (target: string): string => `${target}.partial`;

export async function openResumableTokenFile(target: string, header: TokenFileHeader, batch: number): Promise<ResumableTokenFile> {
  const fs = await nodeModule<Fs>('node:fs/promises');
  const partial = partialPath(target);
  const writeFailed = (path: string) => (error: unknown) => {
    throw error instanceof OutputError ? error : new OutputError(path, (error as Error).message, { cause: error });
  };

  if (await isFinished(fs, target, header)) {
    await fs.rm(partial, { force: true }).catch(writeFailed(partial));
    return { done: header.count, append: async () => undefined, finish: async () => undefined, close: async () => undefined };
  }

  const prefix = partialPrefix(header, batch);
  const { done, restarted } = await resumePoint(fs, partial, prefix, header, batch);
  let handle: FileHandle;
  try {
    await fs.mkdir((await nodeModule<typeof import('node:path')>('node:path')).dirname(partial), { recursive: true });
    if (done === 0) await fs.writeFile(partial, prefix);
    else await fs.truncate(partial, prefix.byteLength + done * header.bytesPerEntry);
    handle = await fs.open(partial, 'a');
  } catch (error) {
    return writeFailed(partial)(error);
  }
  let written = done;

  return {
    done,
    restarted,
    async append(tokens) {
      const records = packEntries(header, tokens);
      const entries = records.byteLength / header.bytesPerEntry;
      if (written + entries > header.count) throw new RangeError(`appending ${entries} entries would make ${written + entries}; the file holds ${header.count}`);
      try {
        await handle.write(records);
        await handle.sync();
      } catch (error) {
        writeFailed(partial)(error);
      }
      written += entries;
    },
    async finish() {
      if (written !== header.count) throw new RangeError(`only ${written} of ${header.count} entries were appended`);
      await handle.close();
      // More bytes than this run appended means a second process wrote the same shard at the same time.
      const expected = prefix.byteLength + header.count * header.bytesPerEntry;
      const { size } = await fs.stat(partial);
      if (size !== expected) throw new OutputError(partial, `it holds ${size} bytes where this run wrote ${expected}: was another process encoding the same output? Delete it and run again`);
      const reader = await fs.open(partial, 'r');
      try {
        await saveFile(target, { chunks: tokenFileChunks(header, recordsOf(reader, prefix.byteLength, header.count * header.bytesPerEntry)) });
      } finally {
        await reader.close();
      }
      await fs.rm(partial, { force: true });
    },
    async close() {
      await handle.close();
    },
  };
}

/** Whether `target` already is the finished file of this run. */
async function isFinished(fs: Fs, target: string, header: TokenFileHeader): Promise<boolean> {
  const bytes = await fs.readFile(target).catch(() => undefined);
  if (!bytes) return false;
  const existing = await parseTokenFile(new Uint8Array(bytes), target).catch(() => undefined);
  return existing !== undefined && JSON.stringify(existing.header) === JSON.stringify(header);
}

function partialPrefix(header: TokenFileHeader, batch: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ header, batch }));
  const prefix = new Uint8Array(PARTIAL_MAGIC.length + 4 + json.byteLength);
  prefix.set(new TextEncoder().encode(PARTIAL_MAGIC), 0);
  new DataView(prefix.buffer).setUint32(PARTIAL_MAGIC.length, json.byteLength, true);
  prefix.set(json, PARTIAL_MAGIC.length + 4);
  return prefix;
}

/** How many entries of an earlier partial file can be kept: whole batches, or all of them. */
async function resumePoint(fs: Fs, partial: string, prefix: Uint8Array, header: TokenFileHeader, batch: number): Promise<{ done: number; restarted?: string }> {
  const stat = await fs.stat(partial).catch(() => undefined);
  if (!stat) return { done: 0 };
  const handle = await fs.open(partial, 'r');
  let same = false;
  try {
    const start = new Uint8Array(prefix.byteLength);
    const { bytesRead } = await handle.read(start, 0, start.byteLength, 0);
    same = bytesRead === prefix.byteLength && start.every((b, i) => b === prefix[i]);
  } finally {
    await handle.close();
  }
  if (!same) return { done: 0, restarted: `${partial} belongs to another run (other model, inputs, shard or --batch); starting again` };
  const entries = Math.min(header.count, Math.floor((stat.size - prefix.byteLength) / header.bytesPerEntry));
  return { done: entries === header.count ? entries : Math.floor(entries / batch) * batch };
}

async function* recordsOf(handle: FileHandle, from: number, length: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < length; at += READ_CHUNK) {
    const chunk = new Uint8Array(Math.min(READ_CHUNK, length - at));
    const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, from + at);
    if (bytesRead !== chunk.byteLength) throw new Error(`the partial file ended early at byte ${from + at + bytesRead}`);
    yield chunk;
  }
}
