/**
 * What the I/O layer asks of its environment. Node built-ins are imported at run time through a
 * non-literal specifier, so browser bundlers (esbuild, Vite, webpack) neither resolve nor bundle them;
 * they are only ever imported when `isNode()` holds.
 */
type NodeProcess = { versions?: { node?: string }; env?: Record<string, string | undefined>; platform?: string; pid?: number };
const nodeProcess = (): NodeProcess | undefined => (globalThis as { process?: NodeProcess }).process;

export function isNode(): boolean {
  return typeof nodeProcess()?.versions?.node === 'string';
}

/** An environment variable in Node; undefined elsewhere or when unset or empty. */
export function envVar(name: string): string | undefined {
  const value = nodeProcess()?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

export function platform(): string | undefined {
  return nodeProcess()?.platform;
}

export function processId(): number {
  return nodeProcess()?.pid ?? 0;
}

export async function nodeModule<T>(specifier: string): Promise<T> {
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}

export type NodeFs = typeof import('node:fs/promises');
export type NodePath = typeof import('node:path');

export const nodeFs = (): Promise<NodeFs> => nodeModule<NodeFs>('node:fs/promises');
export const nodePath = (): Promise<NodePath> => nodeModule<NodePath>('node:path');

/** A random suffix for temporary names. */
export function randomSuffix(): string {
  return `${processId()}.${Math.random().toString(36).slice(2, 10)}`;
}

export const isHttpUrl = (s: string): boolean => /^https?:\/\//i.test(s);
