/**
 * One shard of an encode run, so N processes (the pods of a Kubernetes Indexed Job, or N shells) each
 * tokenise a part of one list and `vtok merge` joins their files into the file one process would have
 * written. Every process sees the same sorted list and cuts it the same way: shard i of n takes the
 * batches floor(i·K/n) .. floor((i+1)·K/n) − 1 of the K batches of the whole list, so shards hold whole
 * batches of the unsharded run and their tokens do not depend on how the work was split.
 */
import { sha256Hex } from '@vtok/core';
import { InputError, UsageError } from './errors';
import { tokenFileHeader, type TokenFile } from './token-file';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Kubernetes puts a pod's index of an Indexed Job here. */
export const JOB_INDEX_VARIABLE = 'JOB_COMPLETION_INDEX';
/** The number of shards, for runs whose index comes from JOB_COMPLETION_INDEX (Kubernetes does not export the Job's completions). */
export const SHARDS_VARIABLE = 'VTOK_SHARDS';

const wholeNumber = (s: string): number | undefined => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined);

/** `i/n` with 0 <= i < n. */
export function parseShard(spec: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!match) throw new UsageError(`--shard must be i/n (this process's shard i of n, counting from 0, e.g. 2/8), got "${spec}"`);
  return checkedShard(Number(match[1]), Number(match[2]), `--shard ${spec}`);
}

function checkedShard(index: number, count: number, given: string): Shard {
  if (count < 1) throw new UsageError(`${given}: the number of shards must be at least 1`);
  if (index >= count) throw new UsageError(`${given}: the shard index must be in 0..${count - 1} (shards count from 0)`);
  return { index, count };
}

/**
 * The shard this process encodes, or undefined for the whole list. `--shard i/n` wins; otherwise the
 * index comes from JOB_COMPLETION_INDEX and the count from `--shards n` or VTOK_SHARDS. An index
 * without a count (or the reverse) is a usage error rather than every pod encoding everything.
 */
export function shardFromOptions(options: { shard?: string; shards?: string }, env: Record<string, string | undefined>): Shard | undefined {
  if (options.shard !== undefined) return parseShard(options.shard);
  const countText = options.shards ?? (env[SHARDS_VARIABLE] || undefined);
  const countFrom = options.shards !== undefined ? '--shards' : SHARDS_VARIABLE;
  const indexText = env[JOB_INDEX_VARIABLE] || undefined;
  if (countText === undefined && indexText === undefined) return undefined;
  if (countText === undefined) {
    throw new UsageError(
      `${JOB_INDEX_VARIABLE}=${indexText} is set (a Kubernetes Indexed Job) but not the number of shards: pass --shards N or set ${SHARDS_VARIABLE}=N (the Job's completions), or --shard i/n`,
    );
  }
  const count = wholeNumber(countText);
  if (count === undefined) throw new UsageError(`${countFrom} must be a whole number of shards, got "${countText}"`);
  if (indexText === undefined) throw new UsageError(`${countFrom}=${count} needs this process's index: set by a Kubernetes Indexed Job in ${JOB_INDEX_VARIABLE}, or pass --shard i/${count}`);
  const index = wholeNumber(indexText);
  if (index === undefined) throw new UsageError(`${JOB_INDEX_VARIABLE} must be a whole number, got "${indexText}"`);
  return checkedShard(index, count, `${JOB_INDEX_VARIABLE}=${index} with ${countFrom}=${count}`);
}

/** The entries [start, end) of a sorted list of `total` that `shard` takes, cut at batch boundaries of `batch`. */
export function shardRange(total: number, batch: number, shard: Shard): { start: number; end: number } {
  const batches = Math.ceil(total / batch);
  const first = Math.floor((shard.index * batches) / shard.count);
  const last = Math.floor(((shard.index + 1) * batches) / shard.count);
  return { start: Math.min(total, first * batch), end: Math.min(total, last * batch) };
}

/** The file a shard writes into the output folder: `shard-00002-of-00008.vtok`. */
export function shardFileName(shard: Shard): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `shard-${pad(shard.index)}-of-${pad(shard.count)}.vtok`;
}

/** The SHA-256 of a list of entry names (one per line): shards of one run share it. */
export function namesSha256(names: readonly string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(names.join('\n')));
}

/**
 * The whole run's token file from its shard files (any order): they must be shards of one run (same
 * tokenizer, shapes, shard count and list of names), each shard exactly once, together every entry once.
 * The result is the file an unsharded run with the same batch size writes.
 */
export async function mergeShards(shards: { path: string; file: TokenFile }[]): Promise<TokenFile> {
  if (shards.length === 0) throw new InputError('merge needs the shard files of a run (shard-*.vtok)');
  for (const { path, file } of shards) {
    if (!file.header.shard) throw new InputError(`${path} is not a shard file (it holds a whole run): merge joins the shard-*.vtok files of one sharded encode`);
  }
  const [first] = shards;
  const same = (file: TokenFile) => {
    const { header: h } = file;
    const f = first.file.header;
    const differs: string[] = [];
    if (h.tokenizer !== f.tokenizer) differs.push(`tokenizer ${JSON.stringify(h.tokenizer)} vs ${JSON.stringify(f.tokenizer)}`);
    for (const key of ['tokenShape', 'vocabSize', 'imageShape'] as const) {
      if (JSON.stringify(h[key]) !== JSON.stringify(f[key])) differs.push(`${key} ${JSON.stringify(h[key])} vs ${JSON.stringify(f[key])}`);
    }
    if ((h.labels === undefined) !== (f.labels === undefined)) differs.push('labels present in one, not the other');
    const hs = h.shard!;
    const fs = f.shard!;
    if (hs.count !== fs.count || hs.total !== fs.total || hs.namesSha256 !== fs.namesSha256) {
      differs.push(`a run of ${hs.total} images in ${hs.count} shards vs ${fs.total} images in ${fs.count} shards${hs.namesSha256 !== fs.namesSha256 ? ' (other input files)' : ''}`);
    }
    return differs;
  };
  for (const shard of shards.slice(1)) {
    const differs = same(shard.file);
    if (differs.length) throw new InputError(`${shard.path} and ${first.path} are not shards of one run: ${differs.join('; ')}`);
  }
  const { count, total, namesSha256: expectedNames } = first.file.header.shard!;
  const byIndex = new Map<number, { path: string; file: TokenFile }>();
  for (const shard of shards) {
    const index = shard.file.header.shard!.index;
    const twin = byIndex.get(index);
    if (twin) throw new InputError(`${shard.path} and ${twin.path} are both shard ${index} of ${count}`);
    byIndex.set(index, shard);
  }
  const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
  if (missing.length) {
    throw new InputError(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing (${missing.map((i) => shardFileName({ index: i, count })).join(', ')})`);
  }
  const ordered = [...Array(count).keys()].map((i) => byIndex.get(i)!.file);
  const names = ordered.flatMap((f) => f.header.names);
  if (names.length !== total || (await namesSha256(names)) !== expectedNames) {
    throw new InputError(`the shards hold ${names.length} entries that are not the run's ${total} (a shard was written for other inputs or cut differently)`);
  }
  const f = first.file.header;
  const tokens = new Int32Array(ordered.reduce((n, file) => n + file.tokens.length, 0));
  let at = 0;
  for (const file of ordered) {
    tokens.set(file.tokens, at);
    at += file.tokens.length;
  }
  const labels = f.labels ? ordered.flatMap((file) => file.header.labels!) : undefined;
  const header = tokenFileHeader({ tokenizer: f.tokenizer, tokenShape: f.tokenShape, vocabSize: f.vocabSize, imageShape: f.imageShape, names, ...(labels ? { labels } : {}) }, names.length);
  return { header, tokens };
}
