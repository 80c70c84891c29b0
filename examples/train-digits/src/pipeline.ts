/**
 * The digits run, stage by stage: a tokenizer on MNIST — a 2D VQ tokenizer (MaskGIT-VQGAN, trainTokenizer) or,
 * with `--tokenizer titok`, a TiTok in two stages against a frozen 2D teacher (./titok) — → held-out PSNR → tokens on disk
 * (tokenizeDataset, writeTokenDataset) → class-conditional MaskGIT (trainGenerator) → a small classifier
 * (Trainer) → samples per class, decoded and read back by the classifier. Every stage checkpoints into
 * `<out>/checkpoints/<stage>` and continues from there with `resume`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@vtok/core';
import { createMaskGIT, saveMaskGIT, type MaskGITGenerator } from '@vtok/maskgit';
import { createMaskGitVqgan, saveMaskGitVqgan, saveTiTok, type MaskGitVqgan, type MaskGitVqganConfig, type TiTok, type TiTokConfig } from '@vtok/titok';
import {
  codebookStats,
  listCheckpoints,
  loadTokenDataset,
  mnistDigits,
  psnr,
  tokenizeDataset,
  trainGenerator,
  trainTokenizer,
  writeTokenDataset,
  type Dataset,
  type FitResult,
  type ImageExample,
  type LogRecord,
} from '@vtok/trainers';
import { accuracyOf, DEFAULT_CLASSIFIER, DigitClassifier, saveClassifier, trainClassifier } from './classifier';
import type { DigitsOptions } from './options';
import { loadTeacher, trainDigitsTiTok } from './titok';

/**
 * The tokenizer: the MaskGIT-VQGAN of @vtok/trainers' recipe test, at 32×32 — a 2D VQ tokenizer whose 8×8
 * latent grid gives 64 tokens from a codebook of 256 (8 bits each, 64 bytes per image). A single-stage
 * TiTok trained from scratch at this size collapses to the mean digit (see README).
 */
export const DIGITS_VQGAN: MaskGitVqganConfig = {
  hiddenChannels: 32,
  channelMult: [1, 1, 2],
  numResBlocks: 1,
  zChannels: 16,
  numEmbeddings: 256,
  resolution: 32,
};
/** Side of the latent grid: 32 / 2^(levels − 1). */
const GRID = DIGITS_VQGAN.resolution / 2 ** (DIGITS_VQGAN.channelMult.length - 1);

/** The generator's sizes; its codebook and token shape are the tokenizer's (`tokens`), so the two compose. */
export const DIGITS_MASKGIT = {
  numClasses: 10,
  hiddenSize: 64,
  numLayers: 2,
  // Four heads: on wasm small batched matmuls now run as heap loops, so four heads cost about what one did
  // (measured here: ~1.0–1.2 s per step of 32 either way).
  numHeads: 4,
  intermediateSize: 256,
  // No dropout: a few thousand steps are too short for it to pay off.
  dropout: 0,
  attnDrop: 0,
};

/** Learning rates: well above the official 1e-4 / 2e-4, which are tuned for runs of 10^5–10^6 steps. */
const LR = { tokenizer: 3e-3, generator: 2e-3, classifier: 2e-3 };
/** Weight EMA decay: 0.99 (≈ the last 100 steps) instead of the official 0.999, whose window is most of a short run. */
const EMA = { decay: 0.99 };

export interface StageFigures {
  steps: number;
  batchSize: number;
  seconds: number;
  /** The checkpoint the stage continued from (`--resume`). */
  resumedFrom?: string;
  /** The stage's last log record (loss and its terms). */
  lastLog?: LogRecord;
}

export interface SamplingFigures {
  guidanceScale: number;
  randomizeTemperature: number;
  samples: number;
  /** Share of samples the classifier reads as the class they were asked for. */
  accuracy: number;
  perClass: number[];
  /** Different token sequences among the samples (greedy sampling gives one per class). */
  distinctSamples: number;
}

export interface DigitsReport {
  backend: string;
  options: Omit<DigitsOptions, 'out'> & { out: string };
  data: { trainImages: number; testImages: number; imageShape: number[] };
  tokenizer: StageFigures & {
    architecture: 'maskgit-vqgan' | 'titok';
    config: MaskGitVqganConfig | TiTokConfig;
    parameters: number;
    /** Held-out PSNR (dB, mean over test digits) of encode → decode, before and after training. */
    psnrUntrained: number;
    /** TiTok: stage 1 (proxy codes) then stage 2 (steps/seconds above are both stages together). */
    stages?: { stage1: StageFigures & { psnr: number }; stage2: StageFigures; teacher: string };
    psnr: number;
    tokensPerImage: number;
    bitsPerToken: number;
    bytesPerImage: number;
  };
  tokenize: { seconds: number; images: number; usedCodes: number; codebookSize: number; perplexity: number };
  generator: StageFigures & { config: typeof DIGITS_MASKGIT & { codebookSize: number; tokenShape: number[] }; parameters: number };
  classifier: StageFigures & { parameters: number; heldOutAccuracy: number };
  generation: { seconds: number; sampleSteps: number; samplesPerClass: number; settings: SamplingFigures[]; best: SamplingFigures };
  files: Record<string, string>;
  wallSeconds: number;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;

/** Dataset images stacked into one float32 [N, H, W, C] tensor, with their labels. */
async function stack(data: Dataset<ImageExample>): Promise<{ images: tf.Tensor4D; labels: Int32Array }> {
  const examples = await Promise.all(Array.from({ length: data.length }, (_, i) => data.get(i)));
  const [h, w, c] = examples[0]!.shape;
  const flat = new Float32Array(examples.length * h * w * c);
  examples.forEach((e, i) => flat.set(e.image, i * h * w * c));
  return { images: tf.tensor4d(flat, [examples.length, h, w, c]), labels: Int32Array.from(examples, (e) => e.label ?? -1) };
}

/** Mean held-out PSNR of encode → decode (reconstructions clipped to [0, 1], as an image is shown). */
async function heldOutPsnr(model: MaskGitVqgan | TiTok, images: tf.Tensor4D, batchSize = 250): Promise<number> {
  let sum = 0;
  const n = images.shape[0];
  for (let start = 0; start < n; start += batchSize) {
    const part = tf.slice(images, [start, 0, 0, 0], [Math.min(batchSize, n - start), -1, -1, -1]);
    const tokens = await model.encode(part);
    const recon = await model.decode(tokens);
    const total = tf.tidy(() => tf.sum(psnr(tf.clipByValue(recon, 0, 1), part)));
    sum += (await total.data())[0]!;
    tf.dispose([part, tokens, recon, total]);
  }
  return sum / n;
}

/** Refuses to mix a new run into an old one's checkpoints unless the user asked to resume. */
async function checkFreshOrResume(dirs: string[], resume: boolean): Promise<void> {
  if (resume) return;
  for (const dir of dirs) {
    const found = await listCheckpoints(dir);
    if (found.length) throw new ConfigError(`${dir} already holds checkpoints of an earlier run (${found.length}); pass --resume to continue it, or choose another --out`);
  }
}

export async function runDigits(options: DigitsOptions, log: (line: string) => void = () => {}): Promise<DigitsReport> {
  const started = performance.now();
  const out = resolve(options.out);
  const dirs = {
    checkpoints: { tokenizer: join(out, 'checkpoints', 'tokenizer'), ...(options.tokenizer === 'titok' ? { stage1: join(out, 'checkpoints', 'tokenizer-stage1') } : {}), generator: join(out, 'checkpoints', 'generator'), classifier: join(out, 'checkpoints', 'classifier') },
    logs: join(out, 'logs'),
    tokenizer: join(out, 'tokenizer'),
    tokens: join(out, 'tokens'),
    maskgit: join(out, 'maskgit'),
    classifier: join(out, 'classifier'),
  };
  await checkFreshOrResume(Object.values(dirs.checkpoints), options.resume);
  mkdirSync(dirs.logs, { recursive: true });
  const stageRun = (stage: 'tokenizer' | 'stage1' | 'generator' | 'classifier', steps: number, batchSize: number) => ({
    steps,
    batchSize,
    seed: options.seed,
    logEvery: Math.max(1, Math.min(50, Math.floor(steps / 10))),
    logFile: join(dirs.logs, `${stage === 'stage1' ? 'tokenizer-stage1' : stage}.jsonl`),
    checkpoint: { dir: dirs.checkpoints[stage] ?? join(out, 'checkpoints', stage), every: options.checkpointEvery, keep: 2 },
    resume: options.resume,
    onLog: (r: LogRecord) => log(`  ${stage} step ${r.step}/${steps}: loss ${r.loss?.toFixed(4)}${r.psnr !== undefined ? `, psnr ${r.psnr.toFixed(2)} dB` : ''}${r.accuracy !== undefined ? `, accuracy ${r.accuracy.toFixed(3)}` : ''}`),
  });
  const figures = (r: FitResult, steps: number, batchSize: number, since: number): StageFigures => ({
    steps,
    batchSize,
    seconds: seconds(since),
    ...(r.resumedFrom ? { resumedFrom: r.resumedFrom } : {}),
    ...(r.logs ? { lastLog: r.logs } : {}),
  });

  const train = await mnistDigits({ split: 'train', size: 32, channels: 3, limit: options.trainImages });
  const test = await stack(await mnistDigits({ split: 'test', size: 32, channels: 3, limit: options.testImages }));
  let tokenizer: MaskGitVqgan | TiTok | undefined;
  let teacher: MaskGitVqgan | undefined;
  let maskgit: MaskGITGenerator | undefined;
  let classifier: DigitClassifier | undefined;
  try {
    // 1. The tokenizer.
    let since = performance.now();
    let tok: { figures: StageFigures; psnrUntrained: number; stages?: NonNullable<DigitsReport['tokenizer']['stages']> };
    if (options.tokenizer === 'titok') {
      teacher = await loadTeacher(options.teacher);
      const teacherName = options.teacher ?? 'the zoo\'s digits-vqgan';
      log(`tokenizer: TiTok 32×32 → 32 tokens of 256 codes, two stages against ${teacherName}: ${options.stepsTokenizer} steps of ${options.batchTokenizer} (proxy codes), ${options.stepsStage2} of ${options.batchStage2} (decoder)`);
      const stage1Run = stageRun('stage1', options.stepsTokenizer, options.batchTokenizer);
      const stage2Run = stageRun('tokenizer', options.stepsStage2, options.batchStage2);
      const result = await trainDigitsTiTok(teacher, train, { stage1: stage1Run, stage2: stage2Run, seed: options.seed }, (model) => heldOutPsnr(model, test.images));
      tokenizer = result.tokenizer;
      // Each stage's own training time (the trainer's), without the PSNR measurements around it.
      const trainingSeconds = (r: FitResult) => Math.round(r.elapsedMs / 100) / 10;
      const stage1 = { ...figures(result.stage1, options.stepsTokenizer, options.batchTokenizer, since), seconds: trainingSeconds(result.stage1), psnr: result.psnrStage1 };
      const stage2 = { ...figures(result.stage2, options.stepsStage2, options.batchStage2, since), seconds: trainingSeconds(result.stage2) };
      // steps and batch of the whole tokenizer entry are stage 1's; the stages entry has both.
      tok = { figures: figures(result.stage2, options.stepsTokenizer, options.batchTokenizer, since), psnrUntrained: result.psnrUntrained, stages: { stage1, stage2, teacher: teacherName } };
      log(`tokenizer: stage 1 ${stage1.seconds} s, held-out PSNR through the teacher's decoder ${result.psnrUntrained.toFixed(2)} dB untrained → ${result.psnrStage1.toFixed(2)} dB`);
    } else {
      log(`tokenizer: MaskGIT-VQGAN 32×32 → ${GRID}×${GRID} = ${GRID * GRID} tokens of ${DIGITS_VQGAN.numEmbeddings} codes, ${options.stepsTokenizer} steps of ${options.batchTokenizer}`);
      // maxBatch: encode and decode many digits at once (the default of 1 is for 256² images).
      const vqgan = createMaskGitVqgan(DIGITS_VQGAN, { seed: options.seed + 1, maxBatch: 256 });
      tokenizer = vqgan;
      const psnrUntrained = await heldOutPsnr(vqgan, test.images);
      const tokRun = await trainTokenizer(vqgan, train, { ...stageRun('tokenizer', options.stepsTokenizer, options.batchTokenizer), lr: LR.tokenizer, ema: EMA });
      tok = { figures: figures(tokRun, options.stepsTokenizer, options.batchTokenizer, since), psnrUntrained };
    }
    const tokFigures = tok.figures;
    const heldOut = await heldOutPsnr(tokenizer, test.images);
    log(`tokenizer: held-out PSNR ${tok.psnrUntrained.toFixed(2)} dB untrained → ${heldOut.toFixed(2)} dB (${tokFigures.seconds} s)`);
    if (options.tokenizer === 'titok') await saveTiTok(tokenizer as TiTok, dirs.tokenizer);
    else await saveMaskGitVqgan(tokenizer as MaskGitVqgan, dirs.tokenizer);
    const vocabSize = tokenizer.tokens.vocabSize;
    const tokensPerImage = tokenizer.tokens.shape.reduce((a, b) => a * b, 1);

    // 2. Tokens of the training digits, once, on disk; the generator trains from the stored file.
    since = performance.now();
    const content = await tokenizeDataset(tokenizer, train, { name: dirs.tokenizer, batchSize: 128 });
    await writeTokenDataset(dirs.tokens, content);
    const tokens = await loadTokenDataset(dirs.tokens);
    const ids = tf.tensor2d(tokens.tokens, [tokens.length, tokensPerImage], 'int32');
    const usage = await codebookStats(ids, vocabSize).finally(() => ids.dispose());
    const tokenize = { seconds: seconds(since), images: tokens.length, usedCodes: usage.usedCodes, codebookSize: vocabSize, perplexity: usage.perplexity };
    log(`tokens: ${tokens.length} digits, ${usage.usedCodes}/${vocabSize} codes used (perplexity ${usage.perplexity.toFixed(1)}), ${tokenize.seconds} s`);

    // 3. The generator.
    log(`generator: MaskGIT, ${options.stepsGenerator} steps of ${options.batchGenerator}`);
    const generatorConfig = { ...DIGITS_MASKGIT, codebookSize: vocabSize, tokenShape: [...tokenizer.tokens.shape] };
    maskgit = createMaskGIT(generatorConfig, { seed: options.seed + 2 });
    since = performance.now();
    const genRun = await trainGenerator(maskgit, tokens, { ...stageRun('generator', options.stepsGenerator, options.batchGenerator), lr: LR.generator, ema: EMA });
    const genFigures = figures(genRun, options.stepsGenerator, options.batchGenerator, since);
    log(`generator: ${genFigures.seconds} s`);
    await saveMaskGIT(maskgit, dirs.maskgit);

    // 4. The judge: a classifier trained on real digits, tested on held-out ones.
    log(`classifier: ${options.stepsClassifier} steps of ${options.batchClassifier}`);
    classifier = new DigitClassifier(DEFAULT_CLASSIFIER, options.seed + 3);
    since = performance.now();
    const clsRun = await trainClassifier(classifier, train, { ...stageRun('classifier', options.stepsClassifier, options.batchClassifier), lr: LR.classifier });
    const clsFigures = figures(clsRun, options.stepsClassifier, options.batchClassifier, since);
    const heldOutAccuracy = (await accuracyOf(classifier, test.images, test.labels)).accuracy;
    log(`classifier: held-out accuracy ${(100 * heldOutAccuracy).toFixed(1)} % (${clsFigures.seconds} s)`);
    await saveClassifier(classifier, dirs.classifier);

    // 5. Samples per class, decoded, read by the classifier.
    since = performance.now();
    const classes = Array.from({ length: 10 * options.samplesPerClass }, (_, i) => Math.floor(i / options.samplesPerClass));
    const settings: SamplingFigures[] = [];
    for (const randomizeTemperature of options.temperature) {
      for (const guidanceScale of options.guidance) {
        const sampled = await maskgit.sample({ classes, steps: options.sampleSteps, seed: options.seed, guidanceScale, randomizeTemperature });
        const rows = (await sampled.array()) as number[][];
        const decoded = await tokenizer.decode(sampled).finally(() => sampled.dispose());
        const images = tf.tidy(() => tf.clipByValue(decoded, 0, 1)) as tf.Tensor4D;
        decoded.dispose();
        const { accuracy, predictions } = await accuracyOf(classifier, images, classes).finally(() => images.dispose());
        const perClass = Array.from({ length: 10 }, (_, c) => {
          let right = 0;
          for (let i = c * options.samplesPerClass; i < (c + 1) * options.samplesPerClass; i++) right += predictions[i] === c ? 1 : 0;
          return right / options.samplesPerClass;
        });
        const distinctSamples = new Set(rows.map((r) => r.join(','))).size;
        settings.push({ guidanceScale, randomizeTemperature, samples: classes.length, accuracy, perClass, distinctSamples });
        log(`generation: guidance ${guidanceScale}, temperature ${randomizeTemperature}: ${(100 * accuracy).toFixed(1)} % read as the requested class (${distinctSamples} distinct of ${classes.length})`);
      }
    }
    const best = settings.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const generation = { seconds: seconds(since), sampleSteps: options.sampleSteps, samplesPerClass: options.samplesPerClass, settings, best };

    const bitsPerToken = Math.ceil(Math.log2(vocabSize));
    const report: DigitsReport = {
      backend: tf.getBackend(),
      options: { ...options, out },
      data: { trainImages: train.length, testImages: test.labels.length, imageShape: [32, 32, 3] },
      tokenizer: {
        ...tokFigures,
        architecture: options.tokenizer === 'titok' ? 'titok' : 'maskgit-vqgan',
        config: options.tokenizer === 'titok' ? (tokenizer as TiTok).config : DIGITS_VQGAN,
        parameters: tokenizer.parameterCount(),
        psnrUntrained: tok.psnrUntrained,
        ...(tok.stages ? { stages: tok.stages } : {}),
        psnr: heldOut,
        tokensPerImage,
        bitsPerToken,
        bytesPerImage: (tokensPerImage * bitsPerToken) / 8,
      },
      tokenize,
      generator: { ...genFigures, config: generatorConfig, parameters: maskgit.parameterCount() },
      classifier: { ...clsFigures, parameters: classifier.parameterCount(), heldOutAccuracy },
      generation,
      files: { tokenizer: dirs.tokenizer, maskgit: dirs.maskgit, classifier: dirs.classifier, tokens: dirs.tokens, checkpoints: join(out, 'checkpoints'), logs: dirs.logs, report: join(out, 'report.json') },
      wallSeconds: seconds(started),
    };
    writeFileSync(report.files.report!, `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    test.images.dispose();
    tokenizer?.dispose();
    teacher?.dispose();
    maskgit?.dispose();
    classifier?.dispose();
  }
}

/** The few lines printed at the end of a run. */
export function summary(r: DigitsReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return [
    `backend ${r.backend}, ${r.data.trainImages} train / ${r.data.testImages} held-out digits, ${r.wallSeconds} s in all`,
    `tokenizer  ${r.tokenizer.steps} steps × ${r.tokenizer.batchSize}, ${r.tokenizer.seconds} s: held-out PSNR ${r.tokenizer.psnrUntrained.toFixed(2)} → ${r.tokenizer.psnr.toFixed(2)} dB; ${r.tokenizer.tokensPerImage} tokens × ${r.tokenizer.bitsPerToken} bits = ${r.tokenizer.bytesPerImage} bytes per image`,
    ...(r.tokenizer.stages
      ? [`  TiTok stage 1 (proxy codes of ${r.tokenizer.stages.teacher}) ${r.tokenizer.stages.stage1.steps} steps × ${r.tokenizer.stages.stage1.batchSize}, ${r.tokenizer.stages.stage1.seconds} s: ${r.tokenizer.stages.stage1.psnr.toFixed(2)} dB; stage 2 (decoder) ${r.tokenizer.stages.stage2.steps} steps × ${r.tokenizer.stages.stage2.batchSize}, ${r.tokenizer.stages.stage2.seconds} s`]
      : []),
    `tokens     ${r.tokenize.usedCodes}/${r.tokenize.codebookSize} codes used, ${r.tokenize.seconds} s`,
    `generator  ${r.generator.steps} steps × ${r.generator.batchSize}, ${r.generator.seconds} s`,
    `classifier ${r.classifier.steps} steps × ${r.classifier.batchSize}, ${r.classifier.seconds} s: held-out accuracy ${pct(r.classifier.heldOutAccuracy)}`,
    ...r.generation.settings.map((s) => `generation guidance ${s.guidanceScale}, temperature ${s.randomizeTemperature}: ${pct(s.accuracy)} recognised as the requested class (${s.distinctSamples} distinct of ${s.samples}; chance 10 %)`),
    `saved to ${r.options.out} (report.json, tokenizer/, maskgit/, classifier/, tokens/, checkpoints/, logs/)`,
  ].join('\n');
}
