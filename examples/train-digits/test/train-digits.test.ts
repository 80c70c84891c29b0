// The whole digits run at `--quick` size, in-process on the test backend: every stage runs, every file is
// written and loads back, and every figure of report.json is there and in range. A second run without
// --resume is refused; with --resume it continues from the finished checkpoints. Bad options get clear errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, openModel } from '@vtok/core';
import { loadMaskGIT } from '@vtok/maskgit';
import { listCheckpoints, loadTokenDataset } from '@vtok/trainers';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../src/options';
import { runDigits, summary, type DigitsReport } from '../src/pipeline';

const temp = mkdtempSync(join(tmpdir(), 'vtok-train-digits-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

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
    expect([t.tokensPerImage, t.bitsPerToken, t.bytesPerImage]).toEqual([16, 8, 16]);
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
    expect(summary(report)).toContain('16 tokens × 8 bits = 16 bytes per image');
    expect(lines.some((l) => l.startsWith('generation: guidance 2'))).toBe(true);
  });

  it('saves models and tokens that load back', async () => {
    // The TiTok folder is opened as files, not with loadTiTok: today loadTiTok refuses the config saveTiTok
    // writes for a model without a pixel codebook (pixel_quantize.num_embeddings 0), a bug of @vtok/titok.
    const titok = await openModel(join(out, 'titok'));
    expect(titok.weights.entries.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0)).toBe(report.tokenizer.parameters);
    await titok.close();
    const maskgit = await loadMaskGIT(join(out, 'maskgit'));
    expect(maskgit.tokens.shape).toEqual([16]);
    maskgit.dispose();
    const tokens = await loadTokenDataset(join(out, 'tokens'));
    expect(tokens.length).toBe(16);
    expect(tokens.labels).toHaveLength(16);
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
      [['--steps-tokenizer', '0'], /--steps-tokenizer must be an integer from 1/],
      [['--steps-generator', 'many'], /--steps-generator must be an integer/],
      [['--train-images', '20000'], /--train-images must be an integer from 10 to 9000/],
      [['--guidance', '1,,2'], /--guidance must be a comma-separated list/],
      [['--temperature=-1'], /--temperature must be a comma-separated list/],
      [['--backend', 'Not A Backend'], /--backend must be a backend name/],
      [['--train-images', '12'], /--train-images \(12\) must be at least the tokenizer batch size \(16\)/],
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
