/**
 * Backend selection: try candidates in order, activate the first that works, and report which one
 * runs and why each one before it was not taken. Nothing falls back silently.
 */
import type { Backend, BackendInfo } from '../contracts';
import { BackendUnavailableError, VtokError } from '../errors';
import { cpu } from './cpu';
import { readEnv } from './host';

/** The backend packages vtok knows by name, loaded lazily so none of them is a hard dependency. */
export const knownBackendPackages: Record<string, { package: string; factory: string }> = {
  cuda: { package: '@vtok/backend-cuda', factory: 'cuda' },
  webgpu: { package: '@vtok/backend-webgpu', factory: 'webgpu' },
  wasm: { package: '@vtok/backend-wasm', factory: 'wasm' },
};

/** The order `auto` tries: fastest first, cpu last (it always works). */
export const autoOrder = ['cuda', 'webgpu', 'wasm', 'cpu'] as const;

export type BackendChoice = 'auto' | string | Backend | (Backend | string)[];

export interface UseBackendOptions {
  /** Loads a backend package by name; defaults to a dynamic import. Tests inject their own. */
  importPackage?: (name: string) => Promise<Record<string, unknown>>;
  /** Ignore VTOK_BACKEND. */
  ignoreEnv?: boolean;
}

const defaultImport = (name: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ name);

/** Turns a name into a Backend, loading its package; throws BackendUnavailableError with the install command. */
export async function resolveBackend(name: string, importPackage = defaultImport): Promise<Backend> {
  if (name === 'cpu') return cpu();
  const known = knownBackendPackages[name];
  if (!known) {
    throw new BackendUnavailableError(name, `unknown backend name; known names: auto, ${[...autoOrder].join(', ')}`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importPackage(known.package);
  } catch (cause) {
    throw new BackendUnavailableError(name, `the package ${known.package} could not be loaded (${errorText(cause)})`, `npm install ${known.package}`, { cause });
  }
  const factory = mod[known.factory];
  if (typeof factory !== 'function') {
    throw new BackendUnavailableError(name, `${known.package} does not export a "${known.factory}" factory`);
  }
  return (factory as () => Backend)();
}

/**
 * Selects and activates a backend.
 * - `'auto'`: VTOK_BACKEND when set (Node), else cuda → webgpu → wasm → cpu.
 * - a name: that backend or an error saying why not (with the install command when a package is missing).
 * - a list: the first that activates.
 */
export async function useBackend(choice: BackendChoice = 'auto', options: UseBackendOptions = {}): Promise<BackendInfo> {
  const importPackage = options.importPackage ?? defaultImport;
  const fromEnv = options.ignoreEnv ? undefined : readEnv('VTOK_BACKEND')?.trim();
  let candidates: (Backend | string)[];
  let explicit = false;
  if (choice === 'auto') {
    if (fromEnv && fromEnv !== 'auto') {
      candidates = [fromEnv];
      explicit = true;
    } else candidates = [...autoOrder];
  } else if (typeof choice === 'string') {
    candidates = [choice];
    explicit = true;
  } else if (Array.isArray(choice)) {
    if (choice.length === 0) throw new VtokError('CONFIG', 'useBackend() was given an empty list of backends');
    candidates = choice;
  } else candidates = [choice];

  const failures: { name: string; reason: string }[] = [];
  // Software-emulated backends (WebGPU on SwiftShader) are correct but slower than the CPU backends:
  // when choosing among several, they are tried only after every other candidate.
  const deferred: { backend: Backend; note: string }[] = [];
  let lastError: unknown;
  const attempt = async (backend: Backend, name: string): Promise<BackendInfo | undefined> => {
    try {
      const info = await backend.activate();
      return { ...info, reasonsOthersFailed: [...failures] };
    } catch (error) {
      lastError = error;
      failures.push({ name, reason: errorText(error) });
      return undefined;
    }
  };
  for (const candidate of candidates) {
    const name = typeof candidate === 'string' ? candidate : candidate.name;
    let backend: Backend;
    try {
      backend = typeof candidate === 'string' ? await resolveBackend(candidate, importPackage) : candidate;
      const availability = await backend.isAvailable();
      if (!availability.ok) throw new BackendUnavailableError(name, availability.reason, availability.install);
      if (availability.softwareOnly && candidates.length > 1) {
        deferred.push({ backend, note: availability.softwareOnly });
        continue;
      }
    } catch (error) {
      lastError = error;
      failures.push({ name, reason: errorText(error) });
      continue;
    }
    const info = await attempt(backend, name);
    if (info) return withDeferredNotes(info, deferred);
  }
  for (const { backend } of deferred) {
    const info = await attempt(backend, backend.name);
    if (info) return info;
  }
  if (explicit && lastError instanceof VtokError) throw lastError;
  throw new BackendUnavailableError(
    candidates.map((c) => (typeof c === 'string' ? c : c.name)).join(' | '),
    `no backend could be activated:\n${failures.map((f) => `  - ${f.name}: ${f.reason}`).join('\n')}`,
  );
}

/** One line per backend saying whether it could run here, without activating any. */
export async function probeBackends(
  names: readonly string[] = autoOrder,
  options: Pick<UseBackendOptions, 'importPackage'> = {},
): Promise<{ name: string; ok: boolean; reason?: string; install?: string }[]> {
  const out: { name: string; ok: boolean; reason?: string; install?: string }[] = [];
  for (const name of names) {
    try {
      const backend = await resolveBackend(name, options.importPackage);
      const a = await backend.isAvailable();
      out.push(a.ok ? { name, ok: true } : { name, ok: false, reason: a.reason, install: a.install });
    } catch (error) {
      out.push({ name, ok: false, reason: errorText(error), install: error instanceof BackendUnavailableError ? error.install : undefined });
    }
  }
  return out;
}

function withDeferredNotes(info: BackendInfo, deferred: { backend: Backend; note: string }[]): BackendInfo {
  if (!deferred.length) return info;
  const notes = deferred.map(({ backend, note }) => ({
    name: backend.name,
    reason: `${note}; it is slower than ${info.name}, so it is used only when nothing else works (select it by name to use it anyway)`,
  }));
  return { ...info, reasonsOthersFailed: [...info.reasonsOthersFailed, ...notes] };
}

function errorText(error: unknown): string {
  if (error instanceof BackendUnavailableError) return error.message.replace(/^backend "[^"]*" is not available: /, '');
  return error instanceof Error ? error.message : String(error);
}
