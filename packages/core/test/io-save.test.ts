/**
 * Atomic folder saves: a save replaces the whole folder or nothing, creates missing folders, keeps
 * the user's other files, and a process killed while it writes (at many points of the write) leaves a
 * folder that loads as the old model or the new one, never a mix.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openModel, SaveError, saveFile, saveFolder, saveModel } from '../src';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'vtok-io-save-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
afterAll(() => rmSync(join(here, '..', 'node_modules', '.vtok-test'), { recursive: true, force: true }));

/** The generation a folder holds, checking that its config and every tensor agree. */
async function generationIn(folder: string): Promise<number> {
  const opened = await openModel(folder);
  try {
    const generation = (opened.config as { generation: number }).generation;
    const seen = new Set<number>();
    await opened.weights.forEach((_, t) => {
      for (const v of t.data as Float32Array) seen.add(v);
    });
    expect([...seen], `tensors of a folder whose config says generation ${generation}`).toEqual([generation]);
    return generation;
  } finally {
    await opened.close();
  }
}

const tensorsOf = (g: number, elements = 4) => ({ w: { dtype: 'float32' as const, shape: [elements], data: new Float32Array(elements).fill(g) } });

describe('saveFolder / saveModel', () => {
  it('creates missing folders, replaces the old files, keeps the user\'s others, leaves no temporary', async () => {
    const folder = join(temp, 'a', 'b', 'model');
    await saveModel(folder, { config: { generation: 1 }, tensors: tensorsOf(1) });
    expect(await generationIn(folder)).toBe(1);
    writeFileSync(join(folder, 'README.md'), 'my notes');
    await saveModel(folder, { config: { generation: 2 }, tensors: tensorsOf(2) });
    expect(await generationIn(folder)).toBe(2);
    expect(readFileSync(join(folder, 'README.md'), 'utf8')).toBe('my notes');
    expect(readdirSync(dirname(folder))).toEqual(['model']);
    expect(readdirSync(folder).sort()).toEqual(['README.md', 'config.json', 'model.safetensors']);
  });

  it('a save that fails leaves the old folder as it was, and says why', async () => {
    const folder = join(temp, 'failing');
    await saveModel(folder, { config: { generation: 1 }, tensors: tensorsOf(1) });
    const bad = { w: { dtype: 'float32' as const, shape: [4], read: async () => Promise.reject(new Error('disk on fire')) } };
    const error = await saveModel(folder, { config: { generation: 2 }, tensors: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SaveError);
    expect((error as Error).message).toMatch(/saving to .*failing failed: disk on fire/);
    expect(await generationIn(folder)).toBe(1);
    expect(readdirSync(temp).filter((n) => n.startsWith('failing'))).toEqual(['failing']);
  });

  it('refuses a target that is a file, and a parent that cannot be made, with a SaveError', async () => {
    const file = join(temp, 'plain-file');
    writeFileSync(file, 'x');
    await expect(saveFolder(file, { 'a.txt': 'a' })).rejects.toThrow(/plain-file failed: it exists and is not a folder/);
    await expect(saveFolder(join(file, 'below'), { 'a.txt': 'a' })).rejects.toThrow(SaveError);
    await expect(saveFolder(join(temp, 'x'), { '../escape': 'a' })).rejects.toThrow(/not a plain file name/);
  });
});

describe('saveFile', () => {
  it('writes text, bytes or chunks, replaces the old file, creates folders, leaves no temporary; a failing write keeps the old file', async () => {
    const file = join(temp, 'single', 'deep', 'out.bin');
    await saveFile(file, 'first');
    expect(readFileSync(file, 'utf8')).toBe('first');
    await saveFile(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    async function* chunks() {
      yield new Uint8Array([4]);
      yield new Uint8Array([5, 6]);
    }
    await saveFile(file, { chunks: chunks() });
    expect([...readFileSync(file)]).toEqual([4, 5, 6]);
    async function* failing() {
      yield new Uint8Array([7]);
      throw new Error('source dried up');
    }
    await expect(saveFile(file, { chunks: failing() })).rejects.toThrow(/out\.bin failed: source dried up/);
    expect([...readFileSync(file)]).toEqual([4, 5, 6]);
    expect(readdirSync(dirname(file))).toEqual(['out.bin']);
    await expect(saveFile(dirname(file), 'x')).rejects.toThrow(/it exists and is a folder/);
    await expect(saveFile(join(file, 'below'), 'x')).rejects.toThrow(SaveError);
  });
});

describe('a process killed while it saves', () => {
  let child: string;
  beforeAll(async () => {
    // The child runs from our sources, bundled for Node (tfjs stays external, as in a user's app, and
    // resolves from the package's node_modules, where the bundle is put).
    child = join(here, '..', 'node_modules', '.vtok-test', `save-loop-${process.pid}.mjs`);
    await build({
      entryPoints: [join(here, 'children', 'save-loop.ts')],
      outfile: child,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['@tensorflow/*'],
      logLevel: 'silent',
    });
  });

  it('leaves a folder that loads as the old model or the new one, at every kill point', async () => {
    const folder = join(temp, 'killed', 'model');
    mkdirSync(dirname(folder), { recursive: true });
    let generation = 1;
    const outcomes: string[] = [];
    // The child first completes one save (so there is an old model), then is killed at a point spread
    // over the next save: from before its first byte to its renames.
    const kills = 12;
    for (let k = 0; k < kills; k++) {
      const proc = spawn(process.execPath, [child, folder, String(64 * 1024), String(generation)], {
        cwd: resolve(here, '..', '..', '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const savedAt: number[] = [];
      let stderr = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.startsWith('saved')) savedAt.push(Date.now());
      });
      proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<void>((done) => proc.on('exit', () => done()));
      const start = Date.now();
      while (savedAt.length < 2 && Date.now() - start < 60_000) {
        if (proc.exitCode !== null) throw new Error(`the child exited early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 1));
      }
      const saveMs = savedAt[1] - savedAt[0];
      await new Promise((r) => setTimeout(r, (saveMs * k) / (kills - 1)));
      proc.kill('SIGKILL');
      await exited;
      const saved = savedAt.length;
      const found = await generationIn(folder);
      // The folder holds the last save that completed, or the one in flight (its rename may have landed).
      expect(found).toBeGreaterThanOrEqual(generation + saved - 1);
      expect(found).toBeLessThanOrEqual(generation + saved);
      outcomes.push(`kill ${k} after ${saved} saves (${saveMs} ms each): generation ${found}${found === generation + saved ? ' (the one in flight)' : ''}`);
      generation = found + 1;
    }
    // The next save recovers from whatever was left, and cleans the temporaries of the dead writers.
    await saveModel(folder, { config: { generation: 1000 }, tensors: tensorsOf(1000) });
    expect(await generationIn(folder)).toBe(1000);
    expect(readdirSync(dirname(folder))).toEqual(['model']);
    expect(outcomes).toHaveLength(kills);
  });
});
