/**
 * One atomic folder save (Node). The new folder is written next to the target under a temporary name
 * (every file flushed to disk), then swapped in with two renames: the old folder aside, the new one in
 * place. A crash leaves the old folder or the new one, never a mix: if it strikes between the two
 * renames, the target is missing and its old copy sits beside it (`<name>.vtok-old-*`); loading reads
 * that copy, and the next save puts it back first. Files in the target that the save does not write
 * are carried over. Missing parent folders are created. `saveFile` does the same for one file: a single
 * rename replaces it, so the target holds the old content or the new one.
 */
import { SaveError } from '../errors';
import { writeSafetensorsStream, type WritableTensor } from '../safetensors/write';
import { isNode, nodeFs, nodePath, processId, randomSuffix } from './env';

/**
 * A file to save: text, bytes, tensors written as safetensors (streamed, tensor by tensor), or byte
 * chunks written in order as they come (a file larger than one wants to hold in memory).
 */
export type FileToSave =
  | string
  | Uint8Array
  | { tensors: Record<string, WritableTensor>; metadata?: Record<string, string> }
  | { chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> };

const TMP = '.vtok-tmp-';
const OLD = '.vtok-old-';

async function exists(path: string): Promise<boolean> {
  return (await nodeFs()).stat(path).then(
    () => true,
    () => false,
  );
}

/** Siblings of `target` left by an interrupted save, newest first. */
async function leftovers(target: string, marker: string): Promise<string[]> {
  const fs = await nodeFs();
  const path = await nodePath();
  const dir = path.dirname(target);
  const prefix = `${path.basename(target)}${marker}`;
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
  const withTimes = await Promise.all(names.map(async (n) => ({ p: path.join(dir, n), t: (await fs.stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  return withTimes.sort((a, b) => b.t - a.t).map((e) => e.p);
}

/** The folder to read for `folder`: itself, or the old copy an interrupted save left; undefined when neither exists. */
export async function readableFolder(folder: string): Promise<string | undefined> {
  if (!isNode()) return folder;
  if (await exists(folder)) return folder;
  return (await leftovers(folder, OLD))[0];
}

const pidOf = (name: string): number => Number(/(?:tmp|old)-(\d+)\./.exec(name)?.[1] ?? NaN);

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === processId()) return true;
  try {
    (globalThis as unknown as { process: { kill(pid: number, signal: number): void } }).process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Puts back what an interrupted save left: the old copy if the target is missing; drops dead writers' temporaries. */
async function recover(target: string): Promise<void> {
  const fs = await nodeFs();
  const olds = await leftovers(target, OLD);
  if (!(await exists(target)) && olds.length) await fs.rename(olds.shift()!, target);
  for (const old of olds) if (!alive(pidOf(old))) await fs.rm(old, { recursive: true, force: true });
  for (const tmp of await leftovers(target, TMP)) if (!alive(pidOf(tmp))) await fs.rm(tmp, { recursive: true, force: true });
}

async function syncPath(path: string): Promise<void> {
  const fs = await nodeFs();
  try {
    const handle = await fs.open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Directories cannot be opened for syncing everywhere (Windows): best effort.
  }
}

async function writeFile(path: string, content: FileToSave): Promise<void> {
  const fs = await nodeFs();
  const handle = await fs.open(path, 'wx');
  try {
    const write = async (bytes: Uint8Array) => {
      let written = 0;
      while (written < bytes.byteLength) written += (await handle.write(bytes, written, bytes.byteLength - written)).bytesWritten;
    };
    if (typeof content === 'string') await write(new TextEncoder().encode(content));
    else if (content instanceof Uint8Array) await write(content);
    else if ('chunks' in content) for await (const chunk of content.chunks) await write(chunk);
    else await writeSafetensorsStream(content.tensors, content.metadata, write);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Saves `files` as the folder `target` atomically (see the module comment). */
export async function saveFolder(target: string, files: Record<string, FileToSave>): Promise<void> {
  if (!isNode()) throw new SaveError(String(target), 'writing a folder needs Node; in a browser save the files the no-target form returns');
  const fs = await nodeFs();
  const path = await nodePath();
  const folder = path.resolve(target);
  for (const name of Object.keys(files)) {
    if (!name || name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new SaveError(folder, `"${name}" is not a plain file name`);
  }
  try {
    await fs.mkdir(path.dirname(folder), { recursive: true });
  } catch (cause) {
    throw new SaveError(folder, `cannot create its parent folder: ${(cause as Error).message}`, { cause });
  }
  await recover(folder);
  const stat = await fs.stat(folder).catch(() => undefined);
  if (stat && !stat.isDirectory()) throw new SaveError(folder, 'it exists and is not a folder');

  const suffix = randomSuffix();
  const temporary = `${folder}${TMP}${suffix}`;
  try {
    await fs.mkdir(temporary);
    if (stat) {
      // Keep what the save does not replace (a README, other files of the user's).
      for (const name of await fs.readdir(folder)) {
        if (Object.prototype.hasOwnProperty.call(files, name)) continue;
        await fs.cp(path.join(folder, name), path.join(temporary, name), { recursive: true, preserveTimestamps: true });
      }
    }
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(temporary, name), content);
    await syncPath(temporary);
  } catch (cause) {
    await fs.rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    throw new SaveError(folder, (cause as Error).message, { cause });
  }

  const old = `${folder}${OLD}${suffix}`;
  try {
    if (stat) await fs.rename(folder, old);
    try {
      await fs.rename(temporary, folder);
    } catch (cause) {
      if (stat) await fs.rename(old, folder).catch(() => undefined);
      throw cause;
    }
  } catch (cause) {
    await fs.rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    throw new SaveError(folder, (cause as Error).message, { cause });
  }
  await syncPath(path.dirname(folder));
  if (stat) await fs.rm(old, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Saves one file atomically (Node): written under a temporary name beside it, flushed, then renamed over
 * `target`, so a reader or a crash sees the old file or the new one, never a part. Missing parent folders
 * are created; a temporary left by a dead writer is removed.
 */
export async function saveFile(target: string, content: FileToSave): Promise<void> {
  if (!isNode()) throw new SaveError(String(target), 'writing a file needs Node');
  const fs = await nodeFs();
  const path = await nodePath();
  const file = path.resolve(target);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
  } catch (cause) {
    throw new SaveError(file, `cannot create its parent folder: ${(cause as Error).message}`, { cause });
  }
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat?.isDirectory()) throw new SaveError(file, 'it exists and is a folder');
  for (const tmp of await leftovers(file, TMP)) if (!alive(pidOf(tmp))) await fs.rm(tmp, { force: true });
  const temporary = `${file}${TMP}${randomSuffix()}`;
  try {
    await writeFile(temporary, content);
    await fs.rename(temporary, file);
  } catch (cause) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw new SaveError(file, (cause as Error).message, { cause });
  }
  await syncPath(path.dirname(file));
}
