/**
 * `vtok train`: trains a MaskGIT-VQGAN tokenizer with @vtok/trainers' recipes on a folder of images or on
 * MNIST digits, fresh from a size preset, or fine-tunes a zoo tokenizer or a saved folder (MaskGIT-VQGAN or
 * TiTok). Checkpoints go
 * to `<out>/checkpoints` (so `--resume` continues bit-identically), the log to `<out>/train.jsonl`, and
 * the final model to `<out>` itself, where `vtok info|encode --model <out>` load it.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ValueError } from '@vtok/core';
import { createMaskGitVqgan, MaskGitVqgan, saveMaskGitVqgan, saveTiTok, TiTok, type MaskGitVqganConfig } from '@vtok/titok';
import { fineTuneTokenizer, imageFolder, listCheckpoints, mnistDigits, trainTokenizer, type Dataset, type FitResult, type ImageExample, type LogRecord } from '@vtok/trainers';
import { isPretrainedName } from '@vtok/zoo';
import { activateBackend, backendJson, backendOptionHelp, backendOptions } from '../backend';
import { flagOption, numberOption, stringOption, type Command, type CommandContext, type ParsedCommand } from '../command';
import { InputError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { loadModelArgument } from '../models';

/** Fresh MaskGIT-VQGAN sizes (the resolution is the images' size). `small` is digits-vqgan's architecture. */
export const TRAIN_SIZES: Record<string, Omit<MaskGitVqganConfig, 'resolution'>> = {
  tiny: { hiddenChannels: 32, channelMult: [1, 2], numResBlocks: 1, zChannels: 8, numEmbeddings: 64 },
  small: { hiddenChannels: 32, channelMult: [1, 1, 2], numResBlocks: 1, zChannels: 16, numEmbeddings: 256 },
};

// Learning rates that move a run of a few hundred steps: the recorded digits run's (fresh), and the
// recipe test's decoder fine-tune (+3 dB in 30 steps). The official 1e-4/1e-5 are tuned for 10^5 steps.
const FRESH_LR = 3e-3;
const FINE_TUNE_LR = 1e-3;

interface TrainTarget {
  model: MaskGitVqgan | TiTok;
  /** 'fresh <size>' or the model it starts from. */
  from: string;
  fineTune: boolean;
}

/** The tokenizers vtok train fine-tunes, by the architecture their config names. */
const FINE_TUNABLE = 'a MaskGIT-VQGAN or a TiTok (e.g. digits-vqgan, digits-titok)';

/** A zoo tokenizer or a saved folder, loaded for a fine-tune; anything else is refused, naming what it is. */
async function fineTuneTarget(spec: string, cwd: string): Promise<TrainTarget> {
  const loaded = await loadModelArgument(spec, { cwd });
  if (loaded.model instanceof MaskGitVqgan || loaded.model instanceof TiTok) return { model: loaded.model, from: isPretrainedName(spec) ? spec : loaded.source, fineTune: true };
  loaded.model.dispose();
  throw new UsageError(`--model ${spec} is a ${loaded.kind} (${loaded.architecture}); vtok train fine-tunes ${FINE_TUNABLE}`);
}

/** The model to train: a zoo tokenizer or a saved folder (fine-tune), or a size preset or config .json (fresh). */
async function trainTarget(spec: string, size: number, seed: number, cwd: string): Promise<TrainTarget> {
  if (isPretrainedName(spec)) return fineTuneTarget(spec, cwd);
  if (spec in TRAIN_SIZES) return { model: createMaskGitVqgan({ ...TRAIN_SIZES[spec], resolution: size }, { seed }), from: `fresh ${spec}`, fineTune: false };
  const path = resolve(cwd, spec);
  const found = await stat(path).catch(() => undefined);
  if (found?.isDirectory()) return fineTuneTarget(path, cwd);
  if (found?.isFile() && path.endsWith('.json')) {
    let config: MaskGitVqganConfig;
    try {
      config = JSON.parse(await readFile(path, 'utf8')) as MaskGitVqganConfig;
    } catch (cause) {
      throw new InputError(`--model ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    return { model: createMaskGitVqgan({ ...config, resolution: config.resolution ?? size }, { seed }), from: `fresh from ${path}`, fineTune: false };
  }
  const sizes = Object.keys(TRAIN_SIZES).join(', ');
  throw new UsageError(`--model "${spec}" is neither a zoo tokenizer (digits-vqgan, digits-titok), a size (${sizes}), a model folder nor a config .json file`);
}

async function trainingData(data: string, size: number, limit: number | undefined, skipInvalid: boolean, { io, output }: CommandContext): Promise<Dataset<ImageExample>> {
  if (data === 'digits') {
    if (size !== 32 && size !== 28) throw new UsageError(`--data digits gives 28×28 or 32×32 images; the model takes ${size}×${size}`);
    return mnistDigits({ split: 'train', size, channels: 3, limit });
  }
  const folder = await imageFolder(resolve(io.cwd, data), { size, channels: 3, invalid: skipInvalid ? 'skip' : 'error' }).catch((error: unknown) => {
    // The library names its own option; on the command line it is --skip-invalid.
    if (error instanceof ValueError) throw new InputError(error.message.replace("pass { invalid: 'skip' }", 'pass --skip-invalid'), { cause: error });
    throw error;
  });
  for (const { file, reason } of folder.skipped) output.note(`skipped ${file}: ${reason}`);
  if (limit === undefined || limit >= folder.length) return folder;
  return { length: limit, get: (i: number) => folder.get(i) };
}

/** Refuses to mix a new run into an earlier run's checkpoints unless --resume says to continue it. */
async function checkFreshOrResume(checkpoints: string, resume: boolean): Promise<void> {
  if (resume) return;
  const found = await listCheckpoints(checkpoints);
  if (found.length) throw new UsageError(`${checkpoints} holds checkpoints of an earlier run (up to step ${found[found.length - 1].step}); pass --resume to continue it, or choose another --out`);
}

function logLine(record: LogRecord, steps: number): string {
  const parts = [`step ${record.step}/${steps}`, `loss ${record.loss?.toFixed(4)}`];
  if (record.psnr !== undefined) parts.push(`psnr ${record.psnr.toFixed(2)} dB`);
  return parts.join(', ');
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train or fine-tune a MaskGIT-VQGAN tokenizer on a folder of images or on MNIST digits',
  usage: [
    'usage: vtok train --data <folder | digits> --out <folder> [--model <zoo name | tiny | small | folder | config.json>] [options]',
    '',
    'A zoo tokenizer (digits-vqgan, digits-titok) or a saved MaskGIT-VQGAN or TiTok folder is fine-tuned (its',
    'decoder only, unless --train all: the tokens stay as they were, so generators trained on them still pair);',
    'tiny, small or a config .json start a fresh MaskGIT-VQGAN (small = digits-vqgan\'s architecture). Images',
    'are resized and centre-cropped to the model\'s resolution (fresh: --size). Writes <out>/checkpoints/step-<n> every --checkpoint-every',
    'steps, the log to <out>/train.jsonl and the final model (config.json + model.safetensors) to <out>.',
    'With --json every log record is one JSON line on stdout, and the last line is the result.',
  ].join('\n'),
  options: {
    ...backendOptions,
    data: { type: 'string' },
    out: { type: 'string', short: 'o' },
    model: { type: 'string', short: 'm' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    size: { type: 'string' },
    limit: { type: 'string' },
    train: { type: 'string' },
    seed: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'log-every': { type: 'string' },
    resume: { type: 'boolean' },
    'skip-invalid': { type: 'boolean' },
  },
  optionHelp: {
    ...backendOptionHelp,
    data: 'a folder of JPEG/PNG/WebP images (a file that is not one is an error, exit 3, unless --skip-invalid), or "digits" for MNIST',
    out: 'the run folder: checkpoints, log, and the final model',
    model: 'what to train (default: small)',
    steps: 'optimiser steps in all, resumed ones included (default 100)',
    batch: 'images per step (default 8)',
    lr: `peak learning rate (default ${FRESH_LR} fresh, ${FINE_TUNE_LR} fine-tuning; cosine schedule)`,
    size: 'image size of a fresh model (default 32)',
    limit: 'use at most this many images',
    train: 'decoder | all: what a fine-tune trains (default decoder; a fresh model trains all)',
    seed: 'seeds the fresh weights, data order and quantizer (default 0)',
    'checkpoint-every': 'write a checkpoint every N steps (default 50; one is always written at the end)',
    'log-every': 'log every N steps (default 10)',
    resume: 'continue from the newest checkpoint in <out>/checkpoints',
    'skip-invalid': 'leave out files of --data that are not images (each named on stderr) instead of stopping',
  },
  async run(parsed, context) {
    return train(parsed, context);
  },
};

async function train(parsed: ParsedCommand, context: CommandContext): Promise<number> {
  const { io, output } = context;
  const data = stringOption(parsed, 'data');
  const outArg = stringOption(parsed, 'out');
  if (!data) throw new UsageError('--data is required: a folder of images, or "digits" (see: vtok train --help)');
  if (!outArg) throw new UsageError('--out is required: the folder the run writes (see: vtok train --help)');
  const steps = numberOption(parsed, 'steps', 100, { integer: true, min: 1 });
  const batchSize = numberOption(parsed, 'batch', 8, { integer: true, min: 1 });
  const seed = numberOption(parsed, 'seed', 0, { integer: true, min: 0 });
  const limit = numberOption(parsed, 'limit', undefined, { integer: true, min: 1 });
  const checkpointEvery = numberOption(parsed, 'checkpoint-every', 50, { integer: true, min: 1 });
  const logEvery = numberOption(parsed, 'log-every', 10, { integer: true, min: 1 });
  const trainWhat = stringOption(parsed, 'train', 'decoder');
  if (trainWhat !== 'decoder' && trainWhat !== 'all') throw new UsageError(`--train must be decoder or all, got "${trainWhat}"`);
  const resume = flagOption(parsed, 'resume');
  const out = resolve(io.cwd, outArg);
  const checkpoints = join(out, 'checkpoints');

  const backend = await activateBackend(parsed, io);
  await checkFreshOrResume(checkpoints, resume);
  const freshSize = numberOption(parsed, 'size', 32, { integer: true, min: 1 });
  const target = await trainTarget(stringOption(parsed, 'model', 'small'), freshSize, seed, io.cwd);
  const { model } = target;
  try {
    const size = model.inputShape[0];
    const lr = numberOption(parsed, 'lr', target.fineTune ? FINE_TUNE_LR : FRESH_LR, { min: 0 });
    const images = await trainingData(data, size, limit, flagOption(parsed, 'skip-invalid'), context);
    if (images.length < batchSize) throw new InputError(`--data ${data} holds ${images.length} image(s), fewer than one batch of ${batchSize} (--batch)`);
    if (!output.json) output.line(`training ${target.from} (${size}×${size}, ${model.tokens.shape.join('×')} tokens of ${model.tokens.vocabSize}) on ${images.length} images, backend ${backend.name}`);

    const bar = output.progress('train', steps);
    const run = {
      steps,
      batchSize,
      seed,
      lr,
      logEvery,
      logFile: join(out, 'train.jsonl'),
      checkpoint: { dir: checkpoints, every: checkpointEvery },
      resume,
      signal: io.signal,
      progressBar: false,
      onProgress: (event: { status: string; step: number }) => {
        if (event.status === 'step') bar.update(event.step);
      },
      onLog: (record: LogRecord) => {
        if (output.json) io.stdout.write(`${JSON.stringify({ type: 'log', ...record })}\n`);
        else {
          // Clear the bar's line, print the record, redraw the bar under it.
          bar.finish();
          output.note(logLine(record, steps));
          bar.update(record.step);
        }
      },
    };
    // A TiTok's decoder fine-tune freezes its encoder side, quantizer included: no codebook update (a
    // dead-code restart or EMA step) may change its tokens.
    if (model instanceof TiTok && target.fineTune && trainWhat === 'decoder') model.setEncoderTrainable(false);
    let result: FitResult;
    try {
      result = target.fineTune
        ? await fineTuneTokenizer(model, images, { ...run, train: trainWhat })
        : await trainTokenizer(model, images, { ...run, ema: { decay: 0.99 } });
    } finally {
      bar.finish();
    }
    if (model instanceof TiTok) await saveTiTok(model, out);
    else await saveMaskGitVqgan(model, out);

    const summary = {
      type: 'result',
      out,
      model: target.from,
      fineTuned: target.fineTune,
      trained: target.fineTune ? trainWhat : 'all',
      steps: result.step,
      resumedFrom: result.resumedFrom ?? null,
      checkpoint: result.checkpoint ?? null,
      images: images.length,
      lastLog: result.logs ?? null,
      seconds: Math.round(result.elapsedMs / 100) / 10,
      backend: backendJson(backend),
    };
    if (output.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      if (result.resumedFrom) output.line(`resumed from ${result.resumedFrom}`);
      output.line(`${result.step} steps in ${summary.seconds} s${result.logs ? `: ${logLine(result.logs, steps)}` : ''}`);
      output.line(`saved the model to ${out} (vtok info ${outArg}); checkpoints in ${checkpoints}`);
    }
    return ExitCode.Success;
  } finally {
    model.dispose();
  }
}
