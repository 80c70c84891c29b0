/**
 * Output paths, checked before any work starts so a long run does not end in a write error: the folder
 * must be creatable and writable, and a file path must not be a folder. Failures are OutputError (exit 4).
 */
import { access, constants, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { CliIO } from './command';
import { OutputError } from './errors';

/** A command-line path, relative to the CLI's working folder. */
export const resolvePath = (io: CliIO, path: string): string => resolve(io.cwd, path);

/** Creates `folder` (and its parents) and checks it can be written into. */
export async function prepareOutputFolder(folder: string): Promise<void> {
  const info = await stat(folder).catch(() => undefined);
  if (info && !info.isDirectory()) throw new OutputError(folder, 'it is a file, not a folder');
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new OutputError(folder, (error as Error).message, { cause: error });
  }
}

/** Checks that the file `path` can be written (its folder is created); an existing folder there is refused. */
export async function prepareOutputFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) throw new OutputError(path, 'it is a folder; give a file name');
  await prepareOutputFolder(dirname(path));
}
