// The training loop: it trains, it logs, it checkpoints atomically and keeps the last N, an abort leaves
// a checkpoint, bad runs fail with typed errors, and a run stopped at step k and resumed equals an
// uninterrupted run bit for bit (same backend).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AbortError, CheckpointError, ConfigError, TrainingError, type TrainProgressEvent } from '@vtok/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ProgressBar, Trainer, latestCheckpoint, listCheckpoints, readCheckpoint } from '../src';
import { Regressor, regressionBatch, regressionData, runState, tinyRun, type RegressionBatch } from './tiny-run';

const temp = mkdtempSync(join(tmpdir(), 'vtok-trainer-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(temp, `run-${n++}`);

const lossOf = (model: Regressor) =>
  tf.tidy(() => {
    const b = regressionBatch(10_000, 256);
    return (tf.losses.meanSquaredError(b.y, model.forward(b.x)) as tf.Scalar).dataSync()[0];
  });

describe('Trainer', () => {
  it('fits a regression: the held-out loss falls by more than 100×, and nothing is left allocated', async () => {
    const before = tf.memory().numTensors;
    const model = new Regressor();
    const trainer = new Trainer<RegressionBatch>({
      phases: [{ name: 'model', module: model, optimizer: { lr: 0.05, weightDecay: 0 }, loss: (b) => tf.losses.meanSquaredError(b.y, model.forward(b.x)) as tf.Scalar }],
    });
    const first = lossOf(model);
    const result = await trainer.fit(regressionData, { steps: 200, logEvery: 50, progressBar: false });
    const last = lossOf(model);
    expect(result.step).toBe(200);
    expect(last).toBeLessThan(first / 100);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('logs JSON lines every N steps and emits start, step, checkpoint and done events', async () => {
    const run = tinyRun();
    const dir = freshDir();
    const logFile = join(dir, 'log.jsonl');
    const events: TrainProgressEvent[] = [];
    const records: unknown[] = [];
    const result = await run.trainer.fit(regressionData, { steps: 6, logEvery: 2, logFile, onLog: (r) => records.push(r), onProgress: (e) => events.push(e), progressBar: false, checkpoint: { dir, every: 3 } });
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([2, 4, 6]);
    expect(lines).toEqual(records);
    // Two phases: logs are prefixed by phase; the adversary starts at step 2 (so it logs from the 3rd step on).
    expect(Object.keys(lines[0]).sort()).toEqual(['elapsed', 'model.batch', 'model.grad_norm', 'model.loss', 'model.lr', 'step']);
    expect(Object.keys(lines[1])).toEqual(expect.arrayContaining(['adversary.loss', 'adversary.lr']));
    expect(lines[2]['model.batch']).toBe(12); // accumulate 2: step 6 consumed batches 11 and 12 (positions)
    expect(lines[1]['adversary.lr']).toBeCloseTo(0.01 / 2, 12); // schedule counted from its startStep: step 3 is its 2nd
    expect(events[0]).toEqual({ type: 'train', status: 'start', step: 0, of: 6 });
    expect(events.filter((e) => e.status === 'step').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.filter((e) => e.status === 'checkpoint').map((e) => e.step)).toEqual([3, 6]);
    expect(events.at(-1)).toMatchObject({ status: 'done', step: 6, aborted: false });
    expect(result.checkpoint).toBe(join(dir, 'step-00000006'));
    run.dispose();
  });

  it('resumes bit-identically: 4 steps, a new process state from the checkpoint, 4 more = 8 uninterrupted steps', async () => {
    const before = tf.memory().numTensors;
    const straight = tinyRun();
    const straightLogs: unknown[] = [];
    await straight.trainer.fit(regressionData, { steps: 8, logEvery: 1, progressBar: false, onLog: (r) => straightLogs.push({ ...r, elapsed: 0 }) });
    const expected = await runState(straight);

    const dir = freshDir();
    const first = tinyRun();
    await first.trainer.fit(regressionData, { steps: 4, logEvery: 1, progressBar: false, checkpoint: { dir } });
    first.dispose();
    const second = tinyRun(); // fresh weights, optimiser, EMA, RNG: everything must come from the checkpoint
    const resumedLogs: unknown[] = [];
    const result = await second.trainer.fit(regressionData, { steps: 8, logEvery: 1, progressBar: false, checkpoint: { dir }, resume: true, onLog: (r) => resumedLogs.push({ ...r, elapsed: 0 }) });
    expect(result.resumedFrom).toBe(join(dir, 'step-00000004'));
    const got = await runState(second);
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    for (const k of Object.keys(expected)) expect(got[k], k).toEqual(expected[k]);
    expect(second.trainer.random.state()).toEqual(straight.trainer.random.state());
    expect(second.mean.exportState()).toEqual(straight.mean.exportState());
    expect(resumedLogs).toEqual(straightLogs.slice(4));
    // Some state was actually there to restore.
    expect(Object.keys(expected).filter((k) => k.startsWith('ema.model.')).length).toBeGreaterThan(0);
    expect(Object.keys(expected).filter((k) => k.startsWith('optimizer.adversary.state.')).length).toBe(6);
    straight.dispose();
    second.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps the newest N checkpoints', async () => {
    const run = tinyRun();
    const dir = freshDir();
    await run.trainer.fit(regressionData, { steps: 10, progressBar: false, checkpoint: { dir, every: 2, keep: 2 } });
    expect(readdirSync(dir).sort()).toEqual(['step-00000008', 'step-00000010']);
    run.dispose();
  });

  it('an abort stops after the current step, writes a checkpoint, and rejects with an AbortError naming it', async () => {
    const run = tinyRun();
    const dir = freshDir();
    const controller = new AbortController();
    const error = await run.trainer
      .fit(regressionData, { steps: 100, progressBar: false, signal: controller.signal, checkpoint: { dir }, onProgress: (e) => e.status === 'step' && e.step === 3 && controller.abort() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).message).toMatch(/aborted after step 3; resume from .*step-00000003/);
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([3]);
    run.dispose();
  });

  it('stops with a TrainingError when the loss is not finite', async () => {
    const model = new Regressor();
    const trainer = new Trainer<RegressionBatch>({ phases: [{ name: 'model', module: model, loss: (b) => tf.div(tf.sum(model.forward(b.x)), tf.scalar(0)) as tf.Scalar }] });
    await expect(trainer.fit(regressionData, { steps: 3, logEvery: 1, progressBar: false })).rejects.toThrow(TrainingError);
    await expect(trainer.fit(regressionData, { steps: 3, logEvery: 1, progressBar: false })).rejects.toThrow(/the loss is (Infinity|NaN|-Infinity); lower the learning rate/);
    trainer.dispose();
    model.dispose();
  });

  it('refuses bad set-ups with ConfigErrors that say what is wrong', () => {
    const model = new Regressor();
    const loss = () => tf.scalar(0);
    expect(() => new Trainer({ phases: [] })).toThrow(ConfigError);
    expect(() => new Trainer({ phases: [{ name: 'a b', module: model, loss }] })).toThrow(/name of letters/);
    expect(() => new Trainer({ phases: [{ name: 'a', module: model, loss }, { name: 'a', module: new Regressor(), loss }] })).toThrow(/two phases are named "a"/);
    expect(() => new Trainer({ phases: [{ name: 'a', module: model, loss }, { name: 'b', module: model, loss }] })).toThrow(/another phase trains already/);
    expect(() => new Trainer({ phases: [{ name: 'a', module: model, loss }], accumulate: 0 })).toThrow(ConfigError);
    const frozen = new Regressor().setTrainable(false);
    expect(() => new Trainer({ phases: [{ name: 'a', module: frozen, loss }] })).toThrow(/no trainable parameters/);
    model.dispose();
    frozen.dispose();
  });

  it('a loss that does not depend on the phase\'s parameters is a TrainingError that says so', async () => {
    const model = new Regressor();
    const trainer = new Trainer<RegressionBatch>({ phases: [{ name: 'model', module: model, loss: (b) => tf.sum(b.x) as tf.Scalar }] });
    await expect(trainer.fit(regressionData, { steps: 1, progressBar: false })).rejects.toThrow(/the loss of phase "model" does not depend on any of its 2 trainable parameters/);
    trainer.dispose();
    model.dispose();
  });

  it('a loss that is not a scalar is a typed error', async () => {
    const model = new Regressor();
    const trainer = new Trainer<RegressionBatch>({ phases: [{ name: 'model', module: model, loss: (b) => model.forward(b.x) as unknown as tf.Scalar }] });
    await expect(trainer.fit(regressionData, { steps: 1, progressBar: false })).rejects.toThrow(/must be a scalar tensor .*got shape \[16,1\]/);
    trainer.dispose();
    model.dispose();
  });

  it('ends early when the data ends, and says so', async () => {
    const model = new Regressor();
    const trainer = new Trainer<RegressionBatch>({ phases: [{ name: 'model', module: model, loss: (b) => tf.losses.meanSquaredError(b.y, model.forward(b.x)) as tf.Scalar }] });
    const result = await trainer.fit((from) => [0, 1, 2].slice((from as number) ?? 0).map((i) => regressionBatch(i)), { steps: 10, progressBar: false });
    expect(result).toMatchObject({ step: 3, dataEnded: true });
    trainer.dispose();
    model.dispose();
  });
});

describe('checkpoints', () => {
  it('a corrupted or truncated newest checkpoint is refused; resume falls back to the newest one that reads back whole', async () => {
    const run = tinyRun();
    const dir = freshDir();
    await run.trainer.fit(regressionData, { steps: 4, progressBar: false, checkpoint: { dir, every: 2 } });
    run.dispose();
    const newest = join(dir, 'step-00000004', 'state.safetensors');
    const bytes = readFileSync(newest);
    bytes[bytes.length - 3] ^= 0x40;
    writeFileSync(newest, bytes);
    await expect(readCheckpoint(join(dir, 'step-00000004'))).rejects.toThrow(/cannot be used: state.safetensors has SHA-256 .* \(corrupted\)/);
    writeFileSync(newest, bytes.subarray(0, 100));
    await expect(readCheckpoint(join(dir, 'step-00000004'))).rejects.toThrow(/has 100 bytes, trainer.json says \d+ \(truncated or replaced\)/);
    const latest = await latestCheckpoint(dir);
    expect(latest?.path).toBe(join(dir, 'step-00000002'));
    expect(latest?.skipped.map((s) => s.path)).toEqual([join(dir, 'step-00000004')]);
    tf.dispose(Object.values(latest!.content.tensors));
    const resumed = tinyRun();
    const result = await resumed.trainer.fit(regressionData, { steps: 3, progressBar: false, checkpoint: { dir }, resume: true });
    expect(result.resumedFrom).toBe(join(dir, 'step-00000002'));
    resumed.dispose();
  });

  it('resuming a run with another model or other phases is a CheckpointError, and nothing changes', async () => {
    const run = tinyRun();
    const dir = freshDir();
    await run.trainer.fit(regressionData, { steps: 2, progressBar: false, checkpoint: { dir } });
    run.dispose();
    const other = new Regressor(4, 2);
    const single = new Trainer<RegressionBatch>({ phases: [{ name: 'model', module: other, loss: () => tf.scalar(0) }] });
    await expect(single.fit(regressionData, { steps: 3, progressBar: false, resume: join(dir, 'step-00000002') })).rejects.toThrow(/holds the phases \[adversary, model\], this run has \[model\]/);
    const bigger = tinyRun({ extraParams: 10 });
    const before = await runState(bigger);
    const error = await bigger.trainer.fit(regressionData, { steps: 3, progressBar: false, resume: join(dir, 'step-00000002') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/phase "model": its weights do not fit this model/);
    expect(String(((error as Error).cause as Error).message)).toMatch(/padding/);
    expect(await runState(bigger)).toEqual(before);
    expect(bigger.trainer.step).toBe(0);
    single.dispose();
    other.dispose();
    bigger.dispose();
  });

  it('the progress bar shows step, loss, rate and time left', () => {
    const written: string[] = [];
    const bar = new ProgressBar(100, (s) => written.push(s), 10);
    bar.update(50, { 'model.loss': 0.12345 });
    expect(written.at(-1)).toMatch(/^\rstep 50\/100  █████░░░░░  model\.loss 0\.1235/);
    bar.finish();
    expect(written.at(-1)).toBe('\n');
  });
});
