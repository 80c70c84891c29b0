/**
 * Training checkpoints (Node): one folder per step under a run's checkpoint folder,
 *
 *   <dir>/step-00000100/state.safetensors   every tensor of the run (modules, optimisers, EMA), by prefix
 *   <dir>/step-00000100/trainer.json        step, data position, RNG state, other JSON state, and the
 *                                           byte count and SHA-256 of state.safetensors
 *
 * written through core's atomic `saveFolder`: a folder named `step-*` exists only once both files are
 * complete on disk, so a process killed mid-write leaves a temporary folder that is never read. Reading
 * checks the format, the byte count and the digest again, so a file damaged later is refused too.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  CheckpointError,
  nodeModule,
  SafetensorsError,
  readSafetensorsAsTensors,
  saveFolder,
  sha256Hex,
  writeSafetensors,
} from '@vtok/core';

export const CHECKPOINT_FORMAT = 'vtok-training-checkpoint';
export const CHECKPOINT_VERSION = 1;
const STATE_FILE = 'state.safetensors';
const TRAINER_FILE = 'trainer.json';
const NAME = /^step-(\d+)$/;

/** What a checkpoint holds. */
export interface CheckpointContent {
  /** Optimiser steps taken when it was written. */
  step: number;
  /** Named tensors (the caller owns those it passes and those `readCheckpoint` returns). */
  tensors: Record<string, tf.Tensor>;
  /** Plain JSON state: data position, RNG state, regulariser state, the run's options. */
  state: Record<string, unknown>;
}

export interface CheckpointInfo {
  step: number;
  path: string;
}

interface TrainerFile {
  format: string;
  version: number;
  step: number;
  state: Record<string, unknown>;
  files: Record<string, { bytes: number; sha256: string }>;
}

async function node() {
  return {
    fs: await nodeModule<typeof import('node:fs/promises')>('node:fs/promises'),
    path: await nodeModule<typeof import('node:path')>('node:path'),
  };
}

export const checkpointName = (step: number): string => `step-${String(step).padStart(8, '0')}`;

/** The checkpoints in `dir` by step, oldest first (folders named `step-<n>`; anything else is ignored). */
export async function listCheckpoints(dir: string): Promise<CheckpointInfo[]> {
  const { fs, path } = await node();
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: CheckpointInfo[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m) out.push({ step: Number(m[1]), path: path.join(dir, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * Writes a checkpoint for `content.step` into `dir` atomically, then deletes all but the newest `keep`
 * checkpoints (default: keep all). Returns the new checkpoint's folder.
 */
export async function writeCheckpoint(dir: string, content: CheckpointContent, options: { keep?: number } = {}): Promise<string> {
  const { fs, path } = await node();
  const bytes = await writeSafetensors(content.tensors, { format: CHECKPOINT_FORMAT });
  const trainer: TrainerFile = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: content.step,
    state: content.state,
    files: { [STATE_FILE]: { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) } },
  };
  const folder = path.join(dir, checkpointName(content.step));
  await saveFolder(folder, { [STATE_FILE]: bytes, [TRAINER_FILE]: `${JSON.stringify(trainer, null, 2)}\n` });
  if (options.keep !== undefined) {
    const all = await listCheckpoints(dir);
    for (const old of all.slice(0, Math.max(0, all.length - options.keep))) {
      // Renamed aside first (atomic), then deleted: a kill in the middle of a recursive delete would
      // leave a `step-*` folder missing some of its files.
      const aside = `${old.path}.vtok-old-${Date.now().toString(36)}`;
      await fs.rename(old.path, aside);
      await fs.rm(aside, { recursive: true, force: true });
    }
  }
  return folder;
}

/** Deletes the temporary folders that saves killed mid-write left in `dir` (call when no save is running there). */
export async function removeInterruptedCheckpoints(dir: string): Promise<string[]> {
  const { fs, path } = await node();
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^step-\d+\.vtok-(tmp|old)-/.test(n));
  for (const n of names) await fs.rm(path.join(dir, n), { recursive: true, force: true });
  return names;
}

/**
 * Reads and checks one checkpoint folder: the format and version, the step, and the state file's byte
 * count and SHA-256. Any problem is a CheckpointError naming the folder; nothing is allocated then.
 */
export async function readCheckpoint(folder: string): Promise<CheckpointContent> {
  const { fs, path } = await node();
  const fail = (reason: string, cause?: unknown): never => {
    throw new CheckpointError(folder, reason, { cause });
  };
  const text = await fs.readFile(path.join(folder, TRAINER_FILE), 'utf8').catch((e: Error) => fail(`${TRAINER_FILE} cannot be read (${e.message})`, e));
  let trainer: TrainerFile;
  try {
    trainer = JSON.parse(text) as TrainerFile;
  } catch (e) {
    return fail(`${TRAINER_FILE} is not valid JSON (${(e as Error).message})`, e);
  }
  if (trainer?.format !== CHECKPOINT_FORMAT) fail(`${TRAINER_FILE} says format ${JSON.stringify(trainer?.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (trainer.version !== CHECKPOINT_VERSION) fail(`it has version ${trainer.version}; this @vtok/trainers reads version ${CHECKPOINT_VERSION}`);
  if (!Number.isInteger(trainer.step) || trainer.step < 0) fail(`its step is ${JSON.stringify(trainer.step)}, expected a non-negative integer`);
  const expected = trainer.files?.[STATE_FILE];
  if (!expected || !Number.isInteger(expected.bytes) || typeof expected.sha256 !== 'string') fail(`${TRAINER_FILE} does not describe ${STATE_FILE}`);
  const bytes = await fs.readFile(path.join(folder, STATE_FILE)).catch((e: Error) => fail(`${STATE_FILE} cannot be read (${e.message})`, e));
  if (bytes.byteLength !== expected.bytes) fail(`${STATE_FILE} has ${bytes.byteLength} bytes, ${TRAINER_FILE} says ${expected.bytes} (truncated or replaced)`);
  const digest = await sha256Hex(bytes);
  if (digest !== expected.sha256) fail(`${STATE_FILE} has SHA-256 ${digest}, ${TRAINER_FILE} says ${expected.sha256} (corrupted)`);
  let tensors: Record<string, tf.Tensor>;
  try {
    tensors = readSafetensorsAsTensors(bytes);
  } catch (e) {
    return fail(`${STATE_FILE} is not a valid safetensors file (${(e as SafetensorsError).message})`, e);
  }
  return { step: trainer.step, tensors, state: trainer.state ?? {} };
}

/**
 * The newest checkpoint in `dir` that reads back whole, and the newer ones that did not (with why);
 * undefined when there is none.
 */
export async function latestCheckpoint(dir: string): Promise<{ content: CheckpointContent; path: string; skipped: { path: string; reason: string }[] } | undefined> {
  const skipped: { path: string; reason: string }[] = [];
  for (const info of (await listCheckpoints(dir)).reverse()) {
    try {
      return { content: await readCheckpoint(info.path), path: info.path, skipped };
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      skipped.push({ path: info.path, reason: error.message });
    }
  }
  return skipped.length ? Promise.reject(new CheckpointError(dir, `no checkpoint in it reads back whole: ${skipped.map((s) => s.reason).join('; ')}`)) : undefined;
}
