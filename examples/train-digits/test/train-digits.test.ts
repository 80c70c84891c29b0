// The whole digits run at `--quick` size, in-process on wasm: every stage runs, every file is
// written and loads back, and every figure of report.json is there and in range. A second run without
// --resume is refused; with --resume it continues from the finished checkpoints. Bad options get clear errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, composePipeline, openModel } from '@vtok/core';
import { loadMaskGIT } from '@vtok/maskgit';
import { loadMaskGitVqgan, loadTiTok } from '@vtok/titok';
import { listCheckpoints, loadTokenDataset, mnistDigits } from '@vtok/trainers';
import { wasm } from '@vtok/backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../src/options';
import { runDigits, summary, type DigitsReport } from '../src/pipeline';

const temp = mkdtempSync(join(tmpdir(), 'vtok-train-digits-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

// On wasm, as @vtok/trainers' recipe test: the MaskGIT-VQGAN's convolutions train too slowly on the pure-JS
// cpu test backend (the --quick run alone went past the 120 s test timeout there).
beforeAll(async () => {
  await wasm().activate();
});

describe('train-digits --quick', () => {
  const out = join(temp, 'run');
  let report: DigitsReport;

  it('runs every stage and writes the models, tokens, checkpoints, logs and a complete report', async () => {
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    report = await runDigits(parseOptions(['--quick', '--out', out]), (l) => lines.push(l));
    expect(tf.memory().numTensors).toBe(before);

    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as DigitsReport;
    expect(written).toEqual(JSON.parse(JSON.stringify(report)));
    expect(report.backend).toBe(tf.getBackend());
    expect(report.data).toEqual({ trainImages: 16, testImages: 10, imageShape: [32, 32, 3] });
    for (const [stage, steps, batch] of [['tokenizer', 2, 4], ['generator', 2, 8], ['classifier', 2, 8]] as const) {
      expect(report[stage]).toMatchObject({ steps, batchSize: batch });
      expect(report[stage].seconds).toBeGreaterThan(0);
      expect(report[stage].lastLog?.step).toBe(steps);
      expect(Number.isFinite(report[stage].lastLog?.loss)).toBe(true);
      expect(report[stage].parameters).toBeGreaterThan(0);
      expect((await listCheckpoints(join(out, 'checkpoints', stage))).length).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'logs', `${stage}.jsonl`), 'utf8').trim().split('\n')).toHaveLength(steps);
    }
    const t = report.tokenizer;
    expect([t.tokensPerImage, t.bitsPerToken, t.bytesPerImage]).toEqual([64, 8, 64]);
    for (const p of [t.psnrUntrained, t.psnr]) expect(p).toBeGreaterThan(3);
    expect(report.tokenize).toMatchObject({ images: 16, codebookSize: 256 });
    expect(report.tokenize.usedCodes).toBeGreaterThan(0);
    expect(report.classifier.heldOutAccuracy).toBeGreaterThanOrEqual(0);
    expect(report.classifier.heldOutAccuracy).toBeLessThanOrEqual(1);
    const g = report.generation;
    expect(g.settings.map((s) => [s.guidanceScale, s.randomizeTemperature])).toEqual([[0, 0], [2, 0]]);
    for (const s of g.settings) {
      expect(s.samples).toBe(10);
      expect(s.perClass).toHaveLength(10);
      expect(s.accuracy).toBeCloseTo(s.perClass.reduce((a, b) => a + b, 0) / 10, 10);
      expect(s.distinctSamples).toBeGreaterThanOrEqual(1);
    }
    expect(g.best.accuracy).toBe(Math.max(...g.settings.map((s) => s.accuracy)));
    expect(report.wallSeconds).toBeGreaterThan(0);
    expect(summary(report)).toContain('64 tokens × 8 bits = 64 bytes per image');
    expect(lines.some((l) => l.startsWith('generation: guidance 2'))).toBe(true);
  });

  it('saves models and tokens that load back', async () => {
    // The tokenizer loads back and encodes a digit to the same 64 tokens as the one that was saved.
    const tokenizer = await loadMaskGitVqgan(join(out, 'tokenizer'));
    expect(tokenizer.parameterCount()).toBe(report.tokenizer.parameters);
    expect(tokenizer.tokens).toEqual({ vocabSize: 256, shape: [64] });
    const tokens = await loadTokenDataset(join(out, 'tokens'));
    expect(tokens.length).toBe(16);
    expect(tokens.labels).toHaveLength(16);
    const digit = await (await mnistDigits({ split: 'train', size: 32, channels: 3, limit: 1 })).get(0);
    const image = tf.tensor4d(digit.image, [1, 32, 32, 3]);
    const ids = await tokenizer.encode(image);
    expect(Array.from(await ids.data())).toEqual(Array.from(tokens.tokens.slice(0, 64)));
    tf.dispose([image, ids]);
    const maskgit = await loadMaskGIT(join(out, 'maskgit'));
    expect(maskgit.tokens.shape).toEqual([64]);
    // The run's tokenizer and generator compose: one digit per class, drawn end to end.
    const pipeline = composePipeline({ tokenizer, generator: maskgit });
    const drawn = await pipeline.generate({ classes: [3, 7], steps: 2, seed: 0 });
    expect(drawn.shape).toEqual([2, 32, 32, 3]);
    drawn.dispose();
    tokenizer.dispose();
    maskgit.dispose();
    const classifier = await openModel(join(out, 'classifier'));
    expect(classifier.config).toMatchObject({ architecture: 'vtok-example-digit-classifier', numClasses: 10 });
    expect(classifier.weights.entries.map((e) => e.name).sort()).toEqual(['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    await classifier.close();
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  });

  it('refuses to run into an earlier run without --resume, and resumes from its checkpoints with it', async () => {
    await expect(runDigits(parseOptions(['--quick', '--out', out]))).rejects.toThrow(/already holds checkpoints .*--resume/);
    const resumed = await runDigits(parseOptions(['--quick', '--out', out, '--resume']));
    for (const stage of ['tokenizer', 'generator', 'classifier'] as const) expect(resumed[stage].resumedFrom).toBeDefined();
  });

  it('refuses bad options with the usage', () => {
    const cases: [string[], RegExp][] = [
      [['--tokenizer', 'vae'], /--tokenizer must be vqgan or titok, got 'vae'/],
      [['--teacher', 'models/x'], /--teacher is for --tokenizer titok/],
      [['--tokenizer', 'titok', '--steps-stage2', '0'], /--steps-stage2 must be an integer from 1/],
      [['--steps-tokenizer', '0'], /--steps-tokenizer must be an integer from 1/],
      [['--steps-generator', 'many'], /--steps-generator must be an integer/],
      [['--train-images', '20000'], /--train-images must be an integer from 10 to 9000/],
      [['--guidance', '1,,2'], /--guidance must be a comma-separated list/],
      [['--temperature=-1'], /--temperature must be a comma-separated list/],
      [['--backend', 'Not A Backend'], /--backend must be a backend name/],
      [['--train-images', '12'], /--train-images \(12\) must be at least the generator batch size \(32\)/],
      [['--unknown'], /Unknown option '--unknown'/],
      [['positional'], /Unexpected argument 'positional'/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseOptions(argv)).toThrow(ConfigError);
      expect(() => parseOptions(argv)).toThrow(message);
      expect(() => parseOptions(argv)).toThrow(/usage: vtok-train-digits/);
    }
  });
});

describe('train-digits --tokenizer titok --quick', () => {
  it("trains a TiTok in two stages against the zoo's digits-vqgan, then the generator over its 32 tokens", async () => {
    const out = join(temp, 'titok');
    const before = tf.memory().numTensors;
    const options = parseOptions(['--tokenizer', 'titok', '--quick', '--out', out]);
    expect(options).toMatchObject({ tokenizer: 'titok', stepsTokenizer: 2, stepsStage2: 2 });
    const report = await runDigits(options);
    expect(tf.memory().numTensors).toBe(before);
    const t = report.tokenizer;
    expect(t.architecture).toBe('titok');
    expect([t.tokensPerImage, t.bitsPerToken, t.bytesPerImage]).toEqual([32, 8, 32]);
    expect(t.stages).toMatchObject({ stage1: { steps: 2, batchSize: 4 }, stage2: { steps: 2, batchSize: 4 }, teacher: "the zoo's digits-vqgan" });
    expect(Number.isFinite(t.stages!.stage1.psnr)).toBe(true);
    for (const stage of ['tokenizer-stage1', 'tokenizer']) expect((await listCheckpoints(join(out, 'checkpoints', stage))).length, stage).toBeGreaterThan(0);
    expect(report.generator.config).toMatchObject({ codebookSize: 256, tokenShape: [32] });
    // The saved TiTok loads back with the same tokens and composes with the saved generator.
    const tokenizer = await loadTiTok(join(out, 'tokenizer'));
    expect(tokenizer.tokens).toEqual({ vocabSize: 256, shape: [32] });
    const maskgit = await loadMaskGIT(join(out, 'maskgit'));
    const drawn = await composePipeline({ tokenizer, generator: maskgit }).generate({ classes: [1], steps: 2, seed: 0 });
    expect(drawn.shape).toEqual([1, 32, 32, 3]);
    tf.dispose(drawn);
    tokenizer.dispose();
    maskgit.dispose();
    expect(summary(report)).toContain('TiTok stage 1');
  });
});
