// The built CLI (dist/bin.js: build first) spawned as a user runs it, for every spawned CLI test.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'vitest';

export const VTOK_BIN = resolve(import.meta.dirname, '..', 'dist', 'bin.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SpawnVtokOptions {
  /** The working folder. */
  cwd: string;
  /** Added to the environment; VTOK_BACKEND is wasm unless given. */
  env?: Record<string, string>;
  /** Gets the child (to kill it). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `vtok ...args`; resolves with its exit code and output. */
export function spawnVtok(args: string[], { cwd, env = {}, onSpawn }: SpawnVtokOptions): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [VTOK_BIN, ...args], { cwd, env: { ...process.env, VTOK_BACKEND: 'wasm', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    onSpawn?.(child);
  });
}

/** Expects the exit code, showing the output when it differs. */
export const expectExit = (run: Run, code: number) => expect(run.code, `exit code; stdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(code);
