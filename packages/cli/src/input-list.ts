/**
 * What `vtok encode` reads: image files, folders of images, and `@list.txt` files naming images one per
 * line, turned into one list of named entries sorted by name. The name is what the token file records and
 * what decode names its output after: a folder's images by their path inside the folder, a list's lines as
 * written (relative lines are taken from the list's own folder, so the list travels with the data), and a
 * file given on the command line by its path from the current folder. Every process that sees the same
 * arguments gets the same list, which is what sharding relies on.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { fileErrorCode, InputError, UsageError } from './errors';
import { listImageFiles } from './images';

export interface InputEntry {
  /** Forward slashes, unique in the list. */
  name: string;
  /** Where the file is read from. */
  path: string;
}

const posix = (p: string) => p.split(sep).join('/');

export async function listInputs(argumentsGiven: readonly string[], cwd: string): Promise<InputEntry[]> {
  if (!argumentsGiven.length) throw new UsageError('name the images to encode: files, folders, or @list.txt (a file naming one image per line)');
  const entries: InputEntry[] = [];
  for (const argument of argumentsGiven) {
    if (argument.startsWith('@')) {
      entries.push(...(await readList(resolve(cwd, argument.slice(1)))));
      continue;
    }
    const path = resolve(cwd, argument);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      for (const file of await listImageFiles([path])) entries.push({ name: posix(relative(path, file)), path: file });
    } else {
      const inside = relative(cwd, path);
      entries.push({ name: posix(inside.startsWith('..') || isAbsolute(inside) ? path : inside), path });
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].name === entries[i - 1].name) {
      throw new InputError(`two inputs have the name "${entries[i].name}" (${entries[i - 1].path} and ${entries[i].path}); entries of a token file are named uniquely`);
    }
  }
  if (!entries.length) throw new InputError('no images were given');
  return entries;
}

async function readList(listPath: string): Promise<InputEntry[]> {
  const text = await readFile(listPath, 'utf8').catch((error: unknown) => {
    throw new InputError(`cannot read the list ${listPath}: ${fileErrorCode(error) === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  });
  const folder = resolve(listPath, '..');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => ({ name: posix(line).replace(/^(\.\/)+/, ''), path: isAbsolute(line) ? line : join(folder, line) }));
}
