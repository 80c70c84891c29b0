/**
 * `vtok encode`, `decode` and `merge` as a user runs them: the built CLI (dist/bin.js) spawned on 100
 * held-out MNIST digits written as PNG files, on wasm. Encode → decode reaches the zoo card's PSNR and the
 * token file is bytesPerImage × N plus its header and checksum; damaged token files and unwritable outputs
 * end with exit 3 and 4; three shard processes merged equal one unsharded run byte for byte, as does a run
 * killed midway and started again; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX picks the shard.
 * The tests run in order: the later ones compare against the token file the first one writes (all.vtok).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { mnistDigits, psnr } from '@vtok/trainers';
import { pretrainedCard } from '@vtok/zoo';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExit, spawnVtok, VTOK_BIN } from './spawn-vtok';
import { runCli } from '../src';
import { readImages } from '../src/images';
import { partialPath } from '../src/resumable-token-file';
import { readTokenFile } from '../src/token-file';

const temp = mkdtempSync(join(tmpdir(), 'vtok-cli-encode-'));
const digits = join(temp, 'digits');
const N = 100;
const BATCH = '4';
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Runs `vtok args` in `temp` on wasm; `onSpawn` gets the child (to kill it). */
const vtok = (args: string[], env: Record<string, string> = {}, onSpawn?: (child: ChildProcess) => void) => spawnVtok(args, { cwd: temp, env, onSpawn });

beforeAll(async () => {
  expect(existsSync(VTOK_BIN), 'the CLI is built (`pnpm build`; the README test command builds first)').toBe(true);
  mkdirSync(digits);
  // The first held-out (test-split) digits, as the card's PSNR was measured on, written as 8-bit PNGs.
  const data = await mnistDigits({ split: 'test', size: 32, channels: 3, limit: N });
  for (let i = 0; i < data.length; i++) {
    const { image } = await data.get(i);
    const bytes = Uint8Array.from(image, (v) => Math.round(v * 255));
    await sharp(bytes, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(digits, `${String(i).padStart(3, '0')}.png`));
  }
});

describe('vtok encode / decode', () => {
  it("round-trips 100 held-out digits at the card's PSNR (within 0.3 dB) in exactly bytesPerImage × N token bytes", async () => {
    const card = pretrainedCard('digits-vqgan');
    const encoded = await vtok(['encode', 'digits', '--model', 'digits-vqgan', '--out', 'all.vtok', '--batch', BATCH, '--json']);
    expectExit(encoded, 0);
    const summary = JSON.parse(encoded.stdout);
    expect(summary).toMatchObject({ images: N, bytesPerImage: card.bytesPerImage, bitsPerToken: card.bitsPerToken, tokenBytes: N * card.bytesPerImage });
    const bytes = readFileSync(join(temp, 'all.vtok'));
    const headerLength = bytes.readUInt32LE(6);
    expect(bytes.byteLength).toBe(10 + headerLength + N * card.bytesPerImage + 32);
    const file = await readTokenFile(join(temp, 'all.vtok'));
    expect(file.header.names[0]).toBe('000.png');

    const decoded = await vtok(['decode', 'all.vtok', '--out', 'decoded']);
    expectExit(decoded, 0);
    const names = readdirSync(digits).sort();
    expect(readdirSync(join(temp, 'decoded')).sort()).toEqual(names);
    const originals = await readImages(names.map((n) => join(digits, n)));
    const back = await readImages(names.map((n) => join(temp, 'decoded', n)));
    const mean = tf.tidy(() => tf.mean(psnr(back.images, originals.images)).dataSync()[0]);
    tf.dispose([originals.images, back.images]);
    expect(Math.abs(mean - card.metrics.heldOutPsnr!), `PSNR ${mean.toFixed(2)} dB vs the card's ${card.metrics.heldOutPsnr}`).toBeLessThan(0.3);
  });

  it("does the same with the zoo's TiTok: 32 tokens, 32 bytes per digit, at its card's PSNR", async () => {
    const card = pretrainedCard('digits-titok');
    const encoded = await vtok(['encode', 'digits', '--model', 'digits-titok', '--out', 'titok.vtok', '--json']);
    expectExit(encoded, 0);
    expect(JSON.parse(encoded.stdout)).toMatchObject({ images: N, bytesPerImage: 32, tokenBytes: N * 32 });
    expect((await readTokenFile(join(temp, 'titok.vtok'))).header).toMatchObject({ tokenizer: 'digits-titok', tokenShape: [32], vocabSize: 256, bitsPerToken: 8, bytesPerEntry: 32 });
    const decoded = await vtok(['decode', 'titok.vtok', '--out', 'decoded-titok']);
    expectExit(decoded, 0);
    const names = readdirSync(digits).sort();
    const originals = await readImages(names.map((n) => join(digits, n)));
    const back = await readImages(names.map((n) => join(temp, 'decoded-titok', n)));
    const mean = tf.tidy(() => tf.mean(psnr(back.images, originals.images)).dataSync()[0]);
    tf.dispose([originals.images, back.images]);
    expect(Math.abs(mean - card.metrics.heldOutPsnr!), `PSNR ${mean.toFixed(2)} dB vs the card's ${card.metrics.heldOutPsnr}`).toBeLessThan(0.3);
  });

  it('prints the tokens as JSON without --out, the same tokens the file holds', async () => {
    const run = await vtok(['encode', 'digits/001.png', 'digits/000.png', '--model', 'digits-vqgan', '--json']);
    expectExit(run, 0);
    const json = JSON.parse(run.stdout);
    const file = await readTokenFile(join(temp, 'all.vtok'));
    expect(json).toMatchObject({ tokenizer: 'digits-vqgan', vocabSize: 256, bytesPerImage: 64 });
    expect(json.entries.map((e: { name: string }) => e.name)).toEqual(['digits/000.png', 'digits/001.png']);
    expect(json.entries[1].tokens).toEqual(Array.from(file.tokens.subarray(64, 128)));
  });

  it('leaves no tensor behind when run in-process', async () => {
    const quiet = { write: () => true };
    const io = { stdout: quiet, stderr: quiet, env: {}, cwd: temp };
    const before = tf.memory().numTensors;
    expect(await runCli(['encode', 'digits/000.png', 'digits/001.png', '--model', 'digits-vqgan', '--out', 'leak.vtok', '--backend', 'cpu'], io)).toBe(0);
    expect(await runCli(['decode', 'leak.vtok', '--out', 'leak', '--backend', 'cpu'], io)).toBe(0);
    expect(await runCli(['decode', 'leak.vtok', '--out', 'leak.png', '--backend', 'cpu'], io)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(readdirSync(join(temp, 'leak')).sort()).toEqual(['digits']);
  });

  it('refuses a damaged or truncated token file (writing nothing) and a generator for --model with exit 3', async () => {
    const good = readFileSync(join(temp, 'all.vtok'));
    const flipped = Buffer.from(good);
    flipped[good.byteLength - 500] ^= 0x01;
    writeFileSync(join(temp, 'flipped.vtok'), flipped);
    writeFileSync(join(temp, 'short.vtok'), good.subarray(0, good.byteLength - 64));
    const damaged = await vtok(['decode', 'flipped.vtok', '--out', 'never']);
    expectExit(damaged, 3);
    expect(damaged.stderr).toMatch(/flipped\.vtok is not a usable token file: its SHA-256 checksum does not match its content/);
    const short = await vtok(['decode', 'short.vtok', '--out', 'never']);
    expectExit(short, 3);
    expect(short.stderr).toMatch(/short\.vtok is not a usable token file: .*truncated/);
    const notOne = await vtok(['decode', 'digits/000.png', '--out', 'never']);
    expectExit(notOne, 3);
    expect(notOne.stderr).toMatch(/does not start with "VTOK"/);
    expect(existsSync(join(temp, 'never'))).toBe(false);
    const generator = await vtok(['decode', 'all.vtok', '--out', 'by-generator', '--model', 'digits-maskgit']);
    expectExit(generator, 3);
    expect(generator.stderr).toMatch(/digits-maskgit is a maskgit generator; this needs a tokenizer/);
  });

  it('ends with exit 4 on an unwritable output, and exit 3 on a folder holding a non-image', async () => {
    writeFileSync(join(temp, 'plain-file'), 'x');
    for (const args of [
      ['encode', 'digits/000.png', '--model', 'digits-vqgan', '--out', 'plain-file/t.vtok'],
      ['encode', 'digits/000.png', '--model', 'digits-vqgan', '--out', 'plain-file', '--shard', '0/2'],
      ['decode', 'all.vtok', '--out', 'plain-file/pngs'],
      ['merge', 'all.vtok', '--out', 'plain-file/m.vtok'],
    ]) {
      const run = await vtok(args);
      expectExit(run, 4);
      expect(run.stderr).toMatch(/cannot write .*plain-file/);
    }
    const mixed = join(temp, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'a.png'), readFileSync(join(digits, '000.png')));
    writeFileSync(join(mixed, 'notes.txt'), 'not an image');
    const run = await vtok(['encode', 'mixed', '--model', 'digits-vqgan', '--out', 'mixed.vtok']);
    expectExit(run, 3);
    expect(run.stderr).toMatch(/notes\.txt/);
  });
});

describe('sharded encode', () => {
  const shardArgs = (i: number) => ['encode', 'digits', '--model', 'digits-vqgan', '--out', 'shards', '--batch', BATCH, '--shard', `${i}/3`];

  it('3 processes with --shard i/3, merged, equal the unsharded run byte for byte; bad shards are usage errors', async () => {
    const runs = await Promise.all([0, 1, 2].map((i) => vtok(shardArgs(i))));
    for (const run of runs) expectExit(run, 0);
    const files = readdirSync(join(temp, 'shards')).sort();
    expect(files).toEqual(['shard-00000-of-00003.vtok', 'shard-00001-of-00003.vtok', 'shard-00002-of-00003.vtok']);
    const merged = await vtok(['merge', ...files.reverse().map((f) => `shards/${f}`), '--out', 'merged.vtok']);
    expectExit(merged, 0);
    expect(readFileSync(join(temp, 'merged.vtok')).equals(readFileSync(join(temp, 'all.vtok')))).toBe(true);

    const missing = await vtok(['merge', 'shards/shard-00000-of-00003.vtok', 'shards/shard-00002-of-00003.vtok', '--out', 'partial.vtok']);
    expectExit(missing, 3);
    expect(missing.stderr).toMatch(/shard 1 of 3 missing/);
    const outOfRange = await vtok([...shardArgs(0).slice(0, -1), '3/3']);
    expectExit(outOfRange, 2);
    expect(outOfRange.stderr).toMatch(/--shard 3\/3: the shard index must be in 0\.\.2/);
  });

  it("takes the shard from a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with VTOK_SHARDS", async () => {
    const run = await vtok(['encode', 'digits', '--model', 'digits-vqgan', '--out', 'job', '--batch', BATCH], { JOB_COMPLETION_INDEX: '1', VTOK_SHARDS: '3' });
    expectExit(run, 0);
    expect(readFileSync(join(temp, 'job', 'shard-00001-of-00003.vtok')).equals(readFileSync(join(temp, 'shards', 'shard-00001-of-00003.vtok')))).toBe(true);
    const noCount = await vtok(['encode', 'digits', '--model', 'digits-vqgan', '--out', 'job'], { JOB_COMPLETION_INDEX: '1' });
    expectExit(noCount, 2);
    expect(noCount.stderr).toMatch(/JOB_COMPLETION_INDEX=1 is set .* not the number of shards/);
  });

  it('a run killed midway, started again, goes on where it stopped and writes the same file', async () => {
    const args = ['encode', 'digits', '--model', 'digits-vqgan', '--out', 'killed.vtok', '--batch', BATCH];
    const partial = partialPath(join(temp, 'killed.vtok'));
    const partialBytesAtKill = await new Promise<number>((done, fail) => {
      vtok(args, {}, (child) => {
        const timer = setInterval(() => {
          // Kill once two batches are on disk: after the partial file's own header (magic, length, JSON), records of 64 bytes.
          const bytes = existsSync(partial) ? readFileSync(partial) : undefined;
          if (bytes && bytes.byteLength >= 12 && bytes.byteLength >= 12 + bytes.readUInt32LE(8) + 8 * 64) {
            child.kill('SIGKILL');
            clearInterval(timer);
          }
        }, 5);
      })
        .then((run) => (run.code === null ? done(statSync(partial).size) : fail(new Error(`the run ended (exit ${run.code}) before it was killed: ${run.stderr}`))))
        .catch(fail);
    });
    expect(partialBytesAtKill).toBeGreaterThan(8 * 64);
    expect(existsSync(join(temp, 'killed.vtok'))).toBe(false);
    const again = await vtok(args);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/resuming .*killed\.vtok: \d+ of 100 images already encoded/);
    expect(readFileSync(join(temp, 'killed.vtok')).equals(readFileSync(join(temp, 'all.vtok')))).toBe(true);
    expect(existsSync(partial)).toBe(false);
  });
});
