/**
 * `config.json`, parsed in one place: JSON text to a tree, and OmegaConf-style `${a.b.c}` references, as the official `config.json` files keep them unresolved
 * (`OmegaConf.to_container` without `resolve=True`; e.g. `image_seq_len: "${model.vq_model.num_latent_tokens}"`).
 * A value that is exactly one reference takes the referenced value with its type; references inside a
 * longer string are replaced by their text. Only absolute references are supported (no resolvers).
 */
import { ConfigError } from '../errors';
import type { OpenedFile } from './file';

const WHOLE = /^\$\{([^${}]+)\}$/;
const ANY = /\$\{([^${}]+)\}/g;

function lookup(root: unknown, path: string): unknown {
  let node = root;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !(part in (node as object))) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function resolveValue(root: unknown, value: unknown, path: string, seen: string[]): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return follow(root, whole[1].trim(), path, seen);
    if (!value.includes('${')) return value;
    return value.replace(ANY, (_, ref: string) => {
      const v = follow(root, ref.trim(), path, seen);
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveValue(root, v, `${path}.${i}`, seen));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(root, v, `${path}.${k}`, seen)]));
  }
  return value;
}

function follow(root: unknown, ref: string, from: string, seen: string[]): unknown {
  if (ref.includes(':') || ref.startsWith('.')) {
    throw new ConfigError(`config ${from}: reference \${${ref}} uses a resolver or a relative path, which is not supported (only \${a.b.c})`);
  }
  if (seen.includes(ref)) throw new ConfigError(`config ${from}: reference cycle ${[...seen, ref].join(' -> ')}`);
  const target = lookup(root, ref);
  if (target === undefined) throw new ConfigError(`config ${from}: reference \${${ref}} names a key that does not exist`);
  return resolveValue(root, target, ref, [...seen, ref]);
}

/** The value at dotted `path` with every reference in it resolved; undefined when the key is absent. */
export function resolveReference(root: unknown, path: string): unknown {
  const value = lookup(root, path);
  return value === undefined ? undefined : resolveValue(root, value, path, [path]);
}

/** A deep copy of the whole tree with every reference resolved (throws ConfigError on a bad one). */
export function resolveConfigReferences<T>(root: T): T {
  return resolveValue(root, root, '(root)', []) as T;
}

/** Parses a config file's JSON (a ConfigError names the file and the JSON error). */
export async function readJsonFile(file: OpenedFile): Promise<unknown> {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(await file.bytes());
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${file.where} is not valid JSON: ${(cause as Error).message}`);
  } finally {
    await file.close();
  }
}
