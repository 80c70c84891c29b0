/**
 * The commands of the CLI framework as a user runs them: the built CLI (dist/bin.js: build first) spawned
 * on a few held-out MNIST digits written as PNGs, on wasm. Each command succeeds with the documented --json
 * document and the PNGs it promises; each kind of bad input ends with its exit code and a message naming
 * the problem (missing file 3, not an image 3, wrong size 3, unknown model 3, unknown option 2, unwritable
 * output 4). Help, version and usage errors, and the tensor count of whole commands, are checked in-process.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { mnistDigits, writeCheckpoint } from '@vtok/trainers';
import { pretrainedCard } from '@vtok/zoo';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExit, spawnVtok, VTOK_BIN } from './spawn-vtok';
import { cliVersion, runCli, type CliIO } from '../src';
import { ExitCode } from '../src/exit-codes';

const temp = mkdtempSync(join(tmpdir(), 'vtok-cli-commands-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const card = pretrainedCard('digits-vqgan');

const vtok = (...args: string[]) => spawnVtok(args, { cwd: temp });

/** runCli in this process, its output captured. */
async function inProcess(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const tty = argv[0] === '--tty';
  if (tty) argv.shift();
  const io: CliIO = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: tty }, env: { VTOK_BACKEND: 'wasm' }, cwd: temp };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const png = (pixels: Uint8Array, side: number, file: string) => sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png().toFile(file);

beforeAll(async () => {
  expect(existsSync(VTOK_BIN), `${VTOK_BIN} is missing: build @vtok/cli first (npm test builds every package)`).toBe(true);
  // Four held-out digits (the card's PSNR set), a folder with a stray text file, a 16×16 image, a file to
  // put an output "folder" under, and a trainer checkpoint.
  mkdirSync(join(temp, 'digits'));
  mkdirSync(join(temp, 'mixed'));
  const data = await mnistDigits({ split: 'test', size: 32, channels: 3, limit: 4 });
  for (let i = 0; i < data.length; i++) {
    const bytes = Uint8Array.from((await data.get(i)).image, (v) => Math.round(v * 255));
    await png(bytes, 32, join(temp, 'digits', `${i}.png`));
    if (i === 0) await png(bytes, 32, join(temp, 'mixed', 'a.png'));
  }
  writeFileSync(join(temp, 'mixed', 'notes.txt'), 'not an image\n');
  await png(new Uint8Array(16 * 16 * 3).fill(200), 16, join(temp, 'small.png'));
  writeFileSync(join(temp, 'a-file'), 'x');
  const weight = tf.ones([2, 3]);
  await writeCheckpoint(join(temp, 'checkpoints'), { step: 7, tensors: { weight }, state: { position: 3 } });
  weight.dispose();
});

describe('vtok (in-process)', () => {
  it('prints help, per-command help and the version; unknown commands and options are usage errors (2)', async () => {
    const help = await inProcess('--help');
    expect(help.code).toBe(0);
    for (const name of ['reconstruct', 'generate', 'info', 'backends', 'bench', 'demo']) expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const reconstruct = await inProcess('reconstruct', '--help');
    expect(reconstruct.code).toBe(0);
    expect(reconstruct.stdout).toMatch(/usage: vtok reconstruct/);
    expect(reconstruct.stdout).toMatch(/--backend <value> +auto\|cuda\|webgpu\|wasm\|cpu/);
    expect(await inProcess('--version')).toMatchObject({ code: 0, stdout: `${cliVersion}\n` });
    expect(cliVersion).toMatch(/^\d+\.\d+\.\d+/);

    const unknown = await inProcess('frobnicate');
    expect(unknown.code).toBe(ExitCode.Usage);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"; the commands are: .*reconstruct/);
    const option = await inProcess('generate', '--colour', 'red', '--json');
    expect(option.code).toBe(ExitCode.Usage);
    expect(option.stderr).toMatch(/Unknown option '--colour'/);
    expect(JSON.parse(option.stdout)).toEqual({ error: { message: expect.stringMatching(/--colour/), exitCode: 2 } });
    const value = await inProcess('generate', '--n', 'many', '--out', 'x.png');
    expect(value.code).toBe(ExitCode.Usage);
    expect(value.stderr).toMatch(/--n must be an integer >= 1 and <= 1024, got "many"/);
    expect((await inProcess('generate')).stderr).toMatch(/--out <grid\.png> is required/);
    const backend = await inProcess('bench', '--backend', 'tpu');
    expect(backend.code).toBe(ExitCode.Usage);
    expect(backend.stderr).toMatch(/--backend "tpu" is not a backend; expected one of: auto, cuda, webgpu, wasm, cpu/);
  });

  it('reconstructs and generates leaving no tensor behind; a progress bar only on a terminal', async () => {
    const before = tf.memory().numTensors;
    const onTerminal = await inProcess('--tty', 'reconstruct', 'digits', '--out', 'leak.png');
    expect(onTerminal.code).toBe(0);
    expect(onTerminal.stderr).toMatch(/\rreconstruct \[#+\] 4\/4/);
    const piped = await inProcess('generate', '--class', '1', '--n', '1', '--steps', '2', '--out', 'leak-gen.png');
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain('\r');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('vtok reconstruct', () => {
  it("prints each image's PSNR and writes originals above reconstructions (file) or one PNG per image (folder)", async () => {
    const run = await vtok('reconstruct', 'digits', '--model', 'digits-vqgan', '--out', 'recon.png', '--columns', '4', '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ model: 'digits-vqgan', backend: { name: 'wasm' }, tokensPerImage: 64, bitsPerToken: 8, bytesPerImage: card.bytesPerImage });
    expect(result.images.map((i: { file: string }) => i.file)).toEqual([0, 1, 2, 3].map((i) => join(temp, 'digits', `${i}.png`)));
    for (const { psnr } of result.images) expect(psnr).toBeGreaterThan(card.metrics.heldOutPsnr! - 5);
    expect(result.meanPsnr).toBeCloseTo(result.images.reduce((a: number, i: { psnr: number }) => a + i.psnr, 0) / 4, 1);
    // 4 columns of 32 px with 1 px gaps; originals row above the reconstructions row.
    expect(await sharp(join(temp, 'recon.png')).metadata()).toMatchObject({ width: 4 * 33 - 1, height: 2 * 33 - 1, format: 'png' });

    const folder = await vtok('reconstruct', join(temp, 'digits', '2.png'), 'digits/3.png', '--out', 'recon');
    expectExit(folder, 0);
    expect(folder.stdout).toMatch(/digits\/2\.png: PSNR \d+\.\d\d dB/);
    expect(folder.stdout).toMatch(/mean PSNR \d+\.\d\d dB over 2 images; 64 tokens × 8 bits = 64 bytes per image/);
    expect(readdirSync(join(temp, 'recon')).sort()).toEqual(['2.png', '3.png']);
    const { data } = await sharp(join(temp, 'recon', '2.png')).raw().toBuffer({ resolveWithObject: true });
    expect(Math.max(...data)).toBeGreaterThan(100); // a digit, not a blank
  });

  it('refuses bad inputs with exit 3 and bad outputs with exit 4, naming the path', async () => {
    const missing = await vtok('reconstruct', 'nope.png');
    expectExit(missing, 3);
    expect(missing.stderr).toMatch(/cannot read nope\.png|nope\.png: no such file/);
    const mixed = await vtok('reconstruct', 'mixed');
    expectExit(mixed, 3);
    expect(mixed.stderr).toMatch(/mixed\/notes\.txt is not a JPEG, PNG or WebP image/);
    const small = await vtok('reconstruct', 'small.png');
    expectExit(small, 3);
    expect(small.stderr).toMatch(/small\.png is 16×16 pixels; the model takes 32×32 \(pass --resize/);
    expectExit(await vtok('reconstruct', 'small.png', '--resize'), 0);
    const model = await vtok('reconstruct', 'digits', '--model', 'digits-vae');
    expectExit(model, 3);
    expect(model.stderr).toMatch(/unknown model "digits-vae": not a zoo model \(digits-vqgan, digits-titok, digits-maskgit, digits-titok-maskgit\)/);
    const generator = await vtok('reconstruct', 'digits', '--model', 'digits-maskgit');
    expectExit(generator, 3);
    expect(generator.stderr).toMatch(/digits-maskgit is a maskgit generator; this needs a tokenizer/);
    const unwritable = await vtok('reconstruct', 'digits', '--out', 'a-file/recon.png', '--json');
    expectExit(unwritable, 4);
    expect(unwritable.stderr).toMatch(/cannot write .*a-file/);
    expect(JSON.parse(unwritable.stdout).error.exitCode).toBe(4);
    expectExit(await vtok('reconstruct', 'digits', '--quality', '9'), 2);
  });
});

describe('vtok generate', () => {
  it('writes one row per class with the zoo tokenizer, and refuses bad classes and paths', async () => {
    const run = await vtok('generate', '--model', 'digits-maskgit', '--class', '3,7', '--n', '2', '--steps', '4', '--seed', '5', '--out', 'out/gen.png', '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      model: 'digits-maskgit',
      tokenizer: 'digits-vqgan',
      classes: [3, 7],
      perClass: 2,
      sampling: { seed: 5, steps: 4, guidanceScale: 2, randomizeTemperature: 1 },
      written: [join(temp, 'out', 'gen.png')],
    });
    const { data, info } = await sharp(join(temp, 'out', 'gen.png')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([2 * 33 - 1, 2 * 33 - 1]);
    expect(Math.max(...data)).toBeGreaterThan(100);
    expect(existsSync(join(temp, 'out')) && readdirSync(join(temp, 'out'))).toEqual(['gen.png']); // no temporary left

    const badClass = await vtok('generate', '--class', '12', '--out', 'x.png');
    expectExit(badClass, 2);
    expect(badClass.stderr).toMatch(/--class takes labels 0 to 9/);
    expectExit(await vtok('generate', '--model', 'digits-vqgan', '--out', 'x.png'), 3);
    const unwritable = await vtok('generate', '--out', 'a-file/gen.png');
    expectExit(unwritable, 4);
    expect(unwritable.stderr).toMatch(/a-file/);
  });
});

describe('Ctrl-C', () => {
  it('stops a running command with exit 130 and writes no picture', async () => {
    const run = await spawnVtok(['demo', '--out', 'interrupted'], {
      cwd: temp,
      onSpawn: (child) => {
        let seen = '';
        child.stdout!.on('data', (c: Buffer) => {
          seen += c.toString();
          if (seen.includes('backend:')) child.kill('SIGINT');
        });
      },
    });
    expect(run.code, run.stdout).toBe(ExitCode.Interrupted);
    expect(readdirSync(join(temp, 'interrupted'))).toEqual([]);
  });
});

describe('vtok info, backends, bench', () => {
  it("describes zoo models with their card's figures, a trainer checkpoint folder, and refuses unknown models", async () => {
    const tokenizer = await vtok('info', 'digits-vqgan', '--json');
    expectExit(tokenizer, 0);
    expect(JSON.parse(tokenizer.stdout)).toMatchObject({
      kind: 'tokenizer',
      architecture: 'maskgit-vqgan',
      parameters: card.parameters,
      inputShape: [32, 32, 3],
      bytesPerImage: card.bytesPerImage,
      card: { metrics: { heldOutPsnr: card.metrics.heldOutPsnr } },
    });
    const generator = await vtok('info', 'digits-maskgit');
    expectExit(generator, 0);
    expect(generator.stdout).toMatch(/digits-maskgit: maskgit generator \(vtok zoo\)/);
    expect(generator.stdout).toMatch(/classes: 10/);
    expect(generator.stdout).toMatch(/recommended sampling: 8 steps, guidance 2, temperature 1/);
    const checkpoint = await vtok('info', 'checkpoints', '--json');
    expectExit(checkpoint, 0);
    expect(JSON.parse(checkpoint.stdout)).toMatchObject({ kind: 'checkpoint', step: 7, steps: [7], values: 6, tensors: { weight: { shape: [2, 3] } }, stateKeys: ['position'] });
    expectExit(await vtok('info', 'no-such-model'), 3);
  });

  it('lists every backend with why it cannot run and how to install it', async () => {
    const run = await vtok('backends', '--json');
    expectExit(run, 0);
    const { backends } = JSON.parse(run.stdout);
    expect(backends.map((b: { name: string }) => b.name)).toEqual(['cuda', 'webgpu', 'wasm', 'cpu']);
    expect(backends.find((b: { name: string }) => b.name === 'wasm').ok).toBe(true);
    expect(backends.find((b: { name: string }) => b.name === 'cpu').ok).toBe(true);
    const cuda = backends.find((b: { name: string }) => b.name === 'cuda');
    if (!cuda.ok) {
      expect(cuda.install).toMatch(/npm install @tensorflow\/tfjs-node-gpu/);
      // Asked for by name, a backend that cannot run is a usage error saying why and how to install it.
      const forced = await vtok('bench', '--backend', 'cuda');
      expectExit(forced, ExitCode.Usage);
      expect(forced.stderr).toMatch(/backend "cuda" is not available: .*\n\s+install it with: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
    }
  });

  it('times encode, decode and sample', async () => {
    const run = await vtok('bench', '--batch', '2', '--repeat', '1', '--json');
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ backend: { name: 'wasm' }, batch: 2, repeat: 1 });
    expect(result.timings.map((t: { operation: string }) => t.operation)).toEqual(['encode', 'decode', 'sample']);
    for (const t of result.timings) expect(t.msPerBatch).toBeGreaterThan(0);
  });
});
