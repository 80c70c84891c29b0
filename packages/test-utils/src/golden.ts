/**
 * The golden fixtures, stored once in this package (`golden/<case>/`, see the README there), and their
 * reader. Every package's parity tests read them through here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GoldenTensor, parseSafetensors } from './safetensors';

/** The folder holding one sub-folder per golden case. */
export const GOLDEN_DIR = join(import.meta.dirname, '..', 'golden');

/** Absolute path of a case folder, or of one file in it. */
export function goldenPath(caseName: string, file?: string): string {
  return file === undefined ? join(GOLDEN_DIR, caseName) : join(GOLDEN_DIR, caseName, file);
}

/** The bytes of one golden file, `relative` = '<case>/<file>' (a view of its own buffer). */
export function readGoldenFile(relative: string): Uint8Array {
  const b = readFileSync(join(GOLDEN_DIR, relative));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The names of every golden case, sorted. */
export function goldenCaseNames(): string[] {
  return readdirSync(GOLDEN_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Every `<case>/<file>.safetensors` of every case, sorted. */
export function goldenSafetensorsFiles(): string[] {
  return goldenCaseNames()
    .flatMap((c) => readdirSync(join(GOLDEN_DIR, c)).filter((f) => f.endsWith('.safetensors')).map((f) => `${c}/${f}`))
    .sort();
}

/** The golden README's tolerance rule for floats: |ours − ref| <= atol + rtol·|ref| elementwise. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** The tolerance every golden case declares today (case.json `tolerance.float`). */
export const GOLDEN_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 1e-4 };

export interface GoldenCase {
  name: string;
  /** case.json as written by the golden generator. */
  json: Record<string, any>;
  /** case.json's `config`: read every size from here, never hard-code it. */
  config: Record<string, any>;
  /** case.json's float tolerance. */
  tolerance: Tolerance;
  /** weights.safetensors as it is on disk (for loaders that take files). */
  weightsBytes: Uint8Array;
  /** weights.safetensors parsed: the module's state dict under PyTorch's names. */
  weights: Record<string, GoldenTensor>;
  /** io.safetensors parsed: inputs, intermediates, outputs. */
  io: Record<string, GoldenTensor>;
}

/** Reads a golden case (case.json, weights.safetensors, io.safetensors). */
export function goldenCase(name: string): GoldenCase {
  const json = JSON.parse(readFileSync(goldenPath(name, 'case.json'), 'utf8'));
  const weightsBytes = readGoldenFile(`${name}/weights.safetensors`);
  const tol = json.tolerance?.float;
  return {
    name,
    json,
    config: json.config ?? {},
    tolerance: tol ? { atol: tol.atol, rtol: tol.rtol } : GOLDEN_TOLERANCE,
    weightsBytes,
    weights: parseSafetensors(weightsBytes, `${name}/weights.safetensors`).tensors,
    io: parseSafetensors(readGoldenFile(`${name}/io.safetensors`), `${name}/io.safetensors`).tensors,
  };
}

/** One io tensor of a case, with an error naming the case when it is missing. */
export function goldenTensor(c: GoldenCase, name: string): GoldenTensor {
  const t = c.io[name];
  if (!t) throw new Error(`${c.name}: no tensor ${name} in io.safetensors (has ${Object.keys(c.io).join(', ')})`);
  return t;
}
