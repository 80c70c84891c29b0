/**
 * Sharding: `--shard i/n` and the Kubernetes Indexed Job variables, the batch-aligned cut of a sorted
 * list, merging shard files back into the unsharded file, and the resumable writer a killed shard
 * re-runs with (in-process here; the spawned CLI runs are in encode-decode.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../src/errors';
import { openResumableTokenFile, partialPath } from '../src/resumable-token-file';
import { mergeShards, namesSha256, parseShard, shardFileName, shardFromOptions, shardRange } from '../src/shard';
import { serializeTokenFile, tokenFileHeader, type TokenFile } from '../src/token-file';

const temp = mkdtempSync(join(tmpdir(), 'vtok-shard-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('which shard', () => {
  it('parses --shard i/n and refuses what is not 0 <= i < n with a usage error', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(parseShard(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    for (const bad of ['8/8', '3', '-1/4', 'a/b', '1/0', '1.5/4']) expect(() => parseShard(bad), bad).toThrow(UsageError);
    expect(() => parseShard('8/8')).toThrow(/--shard 8\/8: the shard index must be in 0\.\.7/);
  });

  it('takes the index from JOB_COMPLETION_INDEX and the count from --shards or VTOK_SHARDS; --shard wins', () => {
    expect(shardFromOptions({}, {})).toBeUndefined();
    expect(shardFromOptions({}, { JOB_COMPLETION_INDEX: '3', VTOK_SHARDS: '8' })).toEqual({ index: 3, count: 8 });
    expect(shardFromOptions({ shards: '4' }, { JOB_COMPLETION_INDEX: '3', VTOK_SHARDS: '8' })).toEqual({ index: 3, count: 4 });
    expect(shardFromOptions({ shard: '1/2' }, { JOB_COMPLETION_INDEX: '3', VTOK_SHARDS: '8' })).toEqual({ index: 1, count: 2 });
    expect(() => shardFromOptions({}, { JOB_COMPLETION_INDEX: '3' })).toThrow(/JOB_COMPLETION_INDEX=3 is set .* pass --shards N or set VTOK_SHARDS/);
    expect(() => shardFromOptions({ shards: '4' }, {})).toThrow(/--shards=4 needs this process's index/);
    expect(() => shardFromOptions({}, { JOB_COMPLETION_INDEX: '8', VTOK_SHARDS: '8' })).toThrow(/must be in 0\.\.7/);
    expect(() => shardFromOptions({ shards: 'many' }, { JOB_COMPLETION_INDEX: '0' })).toThrow(/--shards must be a whole number/);
  });

  it('cuts a list into contiguous whole batches that cover it once, and names shard files', () => {
    for (const [total, batch, n] of [
      [100, 8, 3],
      [12, 4, 3],
      [5, 8, 4],
      [0, 8, 2],
      [1000, 16, 7],
    ]) {
      const ranges = [...Array(n).keys()].map((index) => shardRange(total, batch, { index, count: n }));
      expect(ranges[0].start).toBe(0);
      expect(ranges[n - 1].end).toBe(total);
      for (let i = 1; i < n; i++) expect(ranges[i].start).toBe(ranges[i - 1].end);
      for (const r of ranges) if (r.end < total) expect(r.start % batch).toBe(0);
    }
    expect(shardFileName({ index: 2, count: 8 })).toBe('shard-00002-of-00008.vtok');
  });
});

function tokensFor(names: string[]): Int32Array {
  return Int32Array.from(names.flatMap((n, i) => [i % 16, n.length % 16, 15 - (i % 16), 3]));
}

async function runFiles(names: string[], n: number, batch: number): Promise<{ whole: TokenFile; shards: { path: string; file: TokenFile }[] }> {
  const description = { tokenizer: 'digits-vqgan', tokenShape: [2, 2], vocabSize: 16, imageShape: [32, 32, 3] };
  const all = tokensFor(names);
  const whole = { header: tokenFileHeader({ ...description, names }, names.length), tokens: all };
  const digest = await namesSha256(names);
  const shards = [...Array(n).keys()].map((index) => {
    const { start, end } = shardRange(names.length, batch, { index, count: n });
    const part = names.slice(start, end);
    const header = tokenFileHeader({ ...description, names: part, shard: { index, count: n, total: names.length, namesSha256: digest } }, part.length);
    return { path: shardFileName({ index, count: n }), file: { header, tokens: all.slice(start * 4, end * 4) } };
  });
  return { whole, shards };
}

describe('mergeShards', () => {
  const names = Array.from({ length: 23 }, (_, i) => `img-${String(i).padStart(2, '0')}.png`);

  it('joins the shards (in any order) into the unsharded file, byte for byte', async () => {
    const { whole, shards } = await runFiles(names, 3, 4);
    const merged = await mergeShards([shards[2], shards[0], shards[1]]);
    expect(Buffer.from(await serializeTokenFile(merged)).equals(Buffer.from(await serializeTokenFile(whole)))).toBe(true);
  });

  it('refuses a missing shard, a shard twice, shards of another run, and a whole file', async () => {
    const { whole, shards } = await runFiles(names, 3, 4);
    await expect(mergeShards([shards[0], shards[2]])).rejects.toThrow(/shard 1 of 3 missing \(shard-00001-of-00003\.vtok\)/);
    await expect(mergeShards([shards[0], shards[1], shards[1], shards[2]])).rejects.toThrow(/are both shard 1 of 3/);
    const other = await runFiles(names.slice(1), 3, 4);
    await expect(mergeShards([shards[0], other.shards[1], shards[2]])).rejects.toThrow(/not shards of one run: .*other input files/);
    const otherModel = { path: 'm.vtok', file: { ...shards[1].file, header: { ...shards[1].file.header, tokenizer: 'other' } } };
    await expect(mergeShards([shards[0], otherModel, shards[2]])).rejects.toThrow(/tokenizer "other" vs "digits-vqgan"/);
    await expect(mergeShards([{ path: 'all.vtok', file: whole }])).rejects.toThrow(InputError);
    await expect(mergeShards([])).rejects.toThrow(/merge needs the shard files/);
  });
});

describe('resumable token file', () => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}.png`);
  const header = tokenFileHeader({ tokenizer: 't', tokenShape: [2, 2], vocabSize: 16, imageShape: [4, 4, 3], names }, names.length);
  const tokens = tokensFor(names);
  const batch = 3;

  async function writeFrom(target: string, stopAfterBatches = Infinity): Promise<number> {
    const out = await openResumableTokenFile(target, header, batch);
    let batches = 0;
    for (let i = out.done; i < names.length; i += batch) {
      if (batches++ === stopAfterBatches) {
        await out.close();
        return out.done;
      }
      await out.append(tokens.slice(i * 4, Math.min(names.length, i + batch) * 4));
    }
    await out.finish();
    return out.done;
  }

  it('goes on after an interruption (even mid-record) and ends with the bytes of an uninterrupted run', async () => {
    const straight = join(temp, 'straight.vtok');
    await writeFrom(straight);
    const expected = readFileSync(straight);
    expect(Buffer.from(await serializeTokenFile({ header, tokens })).equals(expected)).toBe(true);

    const resumed = join(temp, 'resumed.vtok');
    expect(await writeFrom(resumed, 2)).toBe(0);
    expect(existsSync(resumed)).toBe(false);
    // A kill in the middle of a write leaves a torn record: the whole batches before it are kept.
    truncateSync(partialPath(resumed), statSync(partialPath(resumed)).size - 5);
    expect(await writeFrom(resumed)).toBe(3);
    expect(readFileSync(resumed).equals(expected)).toBe(true);
    expect(existsSync(partialPath(resumed))).toBe(false);
    // Finished: a re-run has nothing to do and leaves the file as it is.
    expect(await writeFrom(resumed)).toBe(names.length);
    expect(readFileSync(resumed).equals(expected)).toBe(true);
  });

  it('starts again over a partial file of another run, and says why', async () => {
    const target = join(temp, 'other-run.vtok');
    writeFileSync(partialPath(target), 'VTOKPART something else entirely');
    const out = await openResumableTokenFile(target, header, batch);
    expect(out.done).toBe(0);
    expect(out.restarted).toMatch(/belongs to another run/);
    await out.close();
  });

  it('refuses to finish when a second process appended to the same partial file', async () => {
    const target = join(temp, 'twice.vtok');
    const [a, b] = [await openResumableTokenFile(target, header, batch), await openResumableTokenFile(target, header, batch)];
    for (let i = 0; i < names.length; i += batch) {
      const part = tokens.slice(i * 4, Math.min(names.length, i + batch) * 4);
      await a.append(part);
      await b.append(part);
    }
    await b.close();
    await expect(a.finish()).rejects.toThrow(/was another process encoding the same output\? Delete it and run again/);
    expect(existsSync(target)).toBe(false);
  });

  it('an unwritable target is an OutputError naming the path', async () => {
    writeFileSync(join(temp, 'a-file'), 'x');
    await expect(openResumableTokenFile(join(temp, 'a-file', 'out.vtok'), header, batch)).rejects.toThrow(/cannot write .*a-file\/out\.vtok\.partial/);
  });
});
