/**
 * `vtok train` as a user runs it: the built CLI spawned as a process (dist/bin.js: run the build first),
 * at a tiny size on a folder of 8 generated PNGs, on wasm. A fresh run writes the model, checkpoints and
 * JSON-line logs; a second run into the same folder is refused without --resume and resumes with it to
 * the same weights as an uninterrupted run; a non-image in the folder is exit 3; fine-tuning the zoo's
 * digits-vqgan trains its decoder only. The progress bar and option errors are checked in-process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMaskGitVqgan, loadTiTok } from '@vtok/titok';
import { loadPretrained } from '@vtok/zoo';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes';
import { runCli } from '../src/main';

const bin = join(import.meta.dirname, '..', 'dist', 'bin.js');
const temp = mkdtempSync(join(tmpdir(), 'vtok-train-'));
const images = join(temp, 'images');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** 8 colour patterns, 32×32 PNG, unlike each other. */
beforeAll(async () => {
  mkdirSync(images);
  for (let i = 0; i < 8; i++) {
    const pixels = Buffer.alloc(32 * 32 * 3);
    for (let p = 0; p < 32 * 32; p++) pixels.set([(p * 7 + i * 30) % 256, (i * 40) % 256, (p % 32) * 8], p * 3);
    await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(images, `${i}.png`));
  }
});

function vtok(...args: string[]) {
  expect(existsSync(bin), `${bin} is missing: build @vtok/cli first`).toBe(true);
  const r = spawnSync(process.execPath, [bin, 'train', ...args], { cwd: temp, encoding: 'utf8', env: { ...process.env, VTOK_BACKEND: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

const tiny = ['--data', 'images', '--model', 'tiny', '--size', '16', '--batch', '2', '--checkpoint-every', '2', '--log-every', '1', '--backend', 'wasm'];

describe('vtok train (spawned)', () => {
  it('trains a fresh model, then refuses to mix a new run into it and resumes to the weights of an uninterrupted run', async () => {
    const first = vtok(...tiny, '--out', 'run', '--steps', '2', '--json');
    expect(first.code, first.stderr).toBe(ExitCode.Success);
    const records = first.lines.map((l) => JSON.parse(l));
    expect(records.map((r) => r.type)).toEqual(['log', 'log', 'result']);
    expect(records[1]).toMatchObject({ step: 2, loss: expect.any(Number), psnr: expect.any(Number) });
    expect(records[2]).toMatchObject({ steps: 2, resumedFrom: null, images: 8, model: 'fresh tiny', backend: { name: 'wasm' } });
    for (const file of ['config.json', 'model.safetensors', 'train.jsonl', 'checkpoints/step-00000002/trainer.json']) expect(existsSync(join(temp, 'run', file)), file).toBe(true);
    const model = await loadMaskGitVqgan(join(temp, 'run'));
    expect(model.tokens).toEqual({ vocabSize: 64, shape: [64] });
    expect(model.inputShape).toEqual([16, 16, 3]);
    model.dispose();

    const refused = vtok(...tiny, '--out', 'run', '--steps', '4');
    expect(refused.code).toBe(ExitCode.Usage);
    expect(refused.stderr).toMatch(/holds checkpoints of an earlier run \(up to step 2\); pass --resume/);

    const resumed = vtok(...tiny, '--out', 'run', '--steps', '4', '--resume');
    expect(resumed.code, resumed.stderr).toBe(ExitCode.Success);
    expect(resumed.stdout).toMatch(/resumed from .*step-00000002/);
    const whole = vtok(...tiny, '--out', 'whole', '--steps', '4');
    expect(whole.code, whole.stderr).toBe(ExitCode.Success);
    expect(readFileSync(join(temp, 'run', 'model.safetensors')).equals(readFileSync(join(temp, 'whole', 'model.safetensors'))), 'resumed = uninterrupted').toBe(true);
  });

  it('stops with exit 3 naming a file of --data that is not an image', () => {
    const bad = join(temp, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'notes.txt'), 'not an image\n');
    writeFileSync(join(bad, 'a.png'), readFileSync(join(images, '0.png')));
    const r = vtok('--data', 'bad', '--out', 'bad-run', '--model', 'tiny', '--steps', '1', '--backend', 'wasm');
    expect(r.code).toBe(ExitCode.Input);
    expect(r.stderr).toMatch(/notes\.txt is not a JPEG, PNG or WebP image.*--skip-invalid/);
    expect(existsSync(join(temp, 'bad-run', 'model.safetensors'))).toBe(false);
  });

  // A decoder fine-tune changes the decoder side only (TiTok's includes its pixel decoder and codebook), so the tokens stay.
  for (const { zooName, load, decoderSide } of [
    { zooName: 'digits-vqgan', load: loadMaskGitVqgan, decoderSide: /^decoder\./ },
    { zooName: 'digits-titok', load: loadTiTok, decoderSide: /^(decoder|pixel_decoder|pixel_quantize)\./ },
  ] as const) {
    it(`fine-tunes the zoo's ${zooName}: the decoder side changes, the encoder and codebook (so the tokens) do not`, async () => {
      const out = `tuned-${zooName}`;
      const r = vtok('--data', 'images', '--model', zooName, '--out', out, '--steps', '2', '--batch', '2', '--backend', 'wasm', '--json');
      expect(r.code, r.stderr).toBe(ExitCode.Success);
      expect(JSON.parse(r.lines.at(-1)!)).toMatchObject({ model: zooName, fineTuned: true, trained: 'decoder', steps: 2 });
      const [zoo, tuned] = await Promise.all([loadPretrained(zooName), load(join(temp, out))]);
      const weights = (m: typeof zoo) => new Map([...m.namedParameters()].map(([name, v]) => [name, v.dataSync().slice()] as const));
      const [before, after] = [weights(zoo), weights(tuned)];
      zoo.dispose();
      tuned.dispose();
      const changed = [...before.keys()].filter((name) => !before.get(name)!.every((v, i) => v === after.get(name)![i]));
      expect(changed.length).toBeGreaterThan(0);
      expect(changed.every((name) => decoderSide.test(name)), `changed: ${changed.join(', ')}`).toBe(true);
    });
  }
});

describe('vtok train in-process: progress bar and options', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) }, env: {}, cwd: temp } };
  };

  it('draws a progress bar on a terminal, with the log records above it, and none in a pipe', async () => {
    const { out, io: cli } = io();
    const terminal = { ...cli, stderr: { ...cli.stderr, isTTY: true, columns: 80 } };
    expect(await runCli(['train', ...tiny, '--out', 'tty', '--steps', '2'], terminal), out.stderr).toBe(ExitCode.Success);
    expect(out.stderr).toMatch(/\rtrain \[#+\.*\] 1\/2 /);
    expect(out.stderr).toMatch(/\rstep 2\/2, loss [\d.]+, psnr [\d.]+ dB\n\rtrain \[#{40}\] 2\/2 /);
    expect(out.stdout).toMatch(/^training fresh tiny \(16×16, 64 tokens of 64\) on 8 images, backend wasm\n2 steps in /);
    const piped = io();
    expect(await runCli(['train', ...tiny, '--out', 'piped', '--steps', '1'], piped.io)).toBe(ExitCode.Success);
    expect(piped.out.stderr).not.toMatch(/train \[/);
    expect(piped.out.stderr).toMatch(/^step 1\/1, loss/m);
  });

  it('refuses a missing --data or --out, a bad number and an unknown --model with exit 2', async () => {
    for (const [args, message] of [
      [['--out', 'x'], /--data is required/],
      [['--data', 'images'], /--out is required/],
      [['--data', 'images', '--out', 'x', '--steps', '0'], /--steps must be an integer >= 1, got "0"/],
      [['--data', 'images', '--out', 'x', '--train', 'encoder'], /--train must be decoder or all/],
      [['--data', 'images', '--out', 'x', '--model', 'huge', '--backend', 'cpu'], /--model "huge" is neither a zoo tokenizer \(digits-vqgan, digits-titok\), a size \(tiny, small\)/],
      [['--data', 'images', '--out', 'x', '--model', 'digits-maskgit', '--backend', 'cpu'], /--model digits-maskgit is a generator \(maskgit\); vtok train fine-tunes a MaskGIT-VQGAN or a TiTok/],
    ] as const) {
      const { out, io: cli } = io();
      expect(await runCli(['train', ...args], cli), args.join(' ')).toBe(ExitCode.Usage);
      expect(out.stderr).toMatch(message);
    }
  });
});
