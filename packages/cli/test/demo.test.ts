/**
 * The README's quick start as a user runs it: `node scripts/dev.mjs demo` (what `npm run demo` runs) from
 * the repository root, with the output folder in a temporary place. It builds what is missing, then
 * `vtok demo` reconstructs the zoo card's 500 held-out digits and generates every class: both PNGs must
 * exist, decode, have the grid sizes and hold digits, and the printed figures must be the card's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pretrainedCard } from '@vtok/zoo';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { expectExit, spawnVtok } from './spawn-vtok';

const root = resolve(import.meta.dirname, '..', '..', '..');
const out = mkdtempSync(join(tmpdir(), 'vtok-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Size and brightness of a PNG: a blank picture has max 0. */
async function picture(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  let max = 0;
  let sum = 0;
  for (const v of data) {
    max = Math.max(max, v);
    sum += v;
  }
  return { width: info.width, height: info.height, channels: info.channels, max, mean: sum / data.length };
}

describe('npm run demo', () => {
  it("reconstructs and generates digits with the zoo models, writes both PNGs and prints the card's figures", async () => {
    const env = { ...process.env };
    delete env.VTOK_BACKEND; // the backend a user gets: the best one here
    const started = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'dev.mjs'), 'demo', '--out', out], { cwd: root, encoding: 'utf8', env, timeout: 240_000 });
    const seconds = (performance.now() - started) / 1000;
    const text = `${r.stdout}\n${r.stderr}`;
    expect(r.status, text).toBe(0);

    const vqgan = pretrainedCard('digits-vqgan');
    expect(text).toMatch(/^backend: (wasm|webgpu|cuda|cpu) \(tfjs "\w+"\) on .+/m);
    expect(text).toMatch(/^ {2}not cuda: .*tfjs-node-gpu/m);
    expect(text).toContain(`tokens: 64 per image × ${vqgan.bitsPerToken} bits = ${vqgan.bytesPerImage} bytes per image`);
    const psnr = /reconstruction: PSNR (\d+\.\d\d) dB on (\d+) held-out MNIST digits \(zoo card: (\d+\.\d\d) dB on (\d+)\)/.exec(text);
    expect(psnr, text).not.toBeNull();
    expect(Number(psnr![2])).toBe(vqgan.metrics.heldOutImages);
    expect(Number(psnr![3])).toBe(vqgan.metrics.heldOutPsnr);
    expect(Math.abs(Number(psnr![1]) - vqgan.metrics.heldOutPsnr!)).toBeLessThanOrEqual(0.05);
    expect(text).toMatch(/generation: 80 digits \(8 per class\) in \d+\.\d s \(steps 8, guidance 2, temperature 1, seed 1\)/);
    const time = /^time: (\d+\.\d) s on (\w+)$/m.exec(text);
    expect(time, text).not.toBeNull();
    expect(Number(time![1])).toBeLessThan(seconds);

    // Ten originals above their reconstructions; ten rows (classes) of eight samples; 32 px cells, 1 px gaps.
    const reconstructions = await picture(join(out, 'reconstructions.png'));
    expect(reconstructions).toMatchObject({ width: 10 * 33 - 1, height: 2 * 33 - 1, channels: 3 });
    const generated = await picture(join(out, 'generated.png'));
    expect(generated).toMatchObject({ width: 8 * 33 - 1, height: 10 * 33 - 1, channels: 3 });
    for (const p of [reconstructions, generated]) {
      expect(p.max).toBeGreaterThan(150);
      expect(p.mean).toBeGreaterThan(5); // white strokes on black, as MNIST
    }
  });
});

describe('vtok demo --tokenizer', () => {
  it('runs the TiTok pair (digits-titok and the generator over its tokens) and refuses a tokenizer without a zoo generator', async () => {
    const titok = pretrainedCard('digits-titok');
    const run = await spawnVtok(['demo', '--tokenizer', 'digits-titok', '--digits', String(titok.metrics.heldOutImages), '--n', '1', '--out', join(out, 'titok'), '--json'], { cwd: out });
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ tokenizer: 'digits-titok', generator: 'digits-titok-maskgit', tokensPerImage: 32, bytesPerImage: titok.bytesPerImage });
    expect(Math.abs(result.reconstruction.meanPsnr - titok.metrics.heldOutPsnr!)).toBeLessThanOrEqual(0.05);
    const generated = await picture(join(out, 'titok', 'generated.png'));
    expect(generated).toMatchObject({ width: 32, height: 10 * 33 - 1 });
    expect(generated.max).toBeGreaterThan(150);

    const unpaired = await spawnVtok(['demo', '--tokenizer', 'digits-maskgit', '--out', join(out, 'none')], { cwd: out });
    expectExit(unpaired, 2);
    expect(unpaired.stderr).toMatch(/--tokenizer must be a zoo tokenizer with a zoo generator over its tokens \(digits-vqgan, digits-titok\), got "digits-maskgit"/);
  });
});
