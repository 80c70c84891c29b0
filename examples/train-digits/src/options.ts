/** The command line: every option, its default, and a ConfigError with the usage for anything else. */
import { parseArgs } from 'node:util';
import { ConfigError } from '@vtok/core';

export const USAGE = `usage: vtok-train-digits [--out digits-run] [--backend auto|wasm|cpu|webgpu]
  [--tokenizer vqgan|titok] [--teacher <folder>] [--steps-stage2 N] [--steps-tokenizer N] [--steps-generator N] [--steps-classifier N] [--train-images N]
  [--samples-per-class N] [--guidance 0,2] [--temperature 0,1] [--seed N] [--resume] [--quick]`;

export interface DigitsOptions {
  out: string;
  /**
   * 'vqgan': a MaskGIT-VQGAN (2D, 64 tokens) trained in one stage. 'titok': a TiTok (1D, 32 tokens) trained in
   * TiTok's two stages against a frozen 2D VQ teacher (`--teacher`).
   */
  tokenizer: 'vqgan' | 'titok';
  /** TiTok only: the teacher's model folder; left out, the zoo's digits-vqgan. */
  teacher?: string;
  /** TiTok only: stage-2 steps (decoder fine-tuning in pixels); stage 1 runs `stepsTokenizer`. */
  stepsStage2: number;
  batchStage2: number;
  /** 'auto' or a backend name, handed to core's useBackend by main.ts. */
  backend: string;
  stepsTokenizer: number;
  stepsGenerator: number;
  stepsClassifier: number;
  /** MNIST train digits used by every stage (the split has 9,000). */
  trainImages: number;
  /** MNIST test digits for PSNR and classifier accuracy (the split has 1,000). */
  testImages: number;
  batchTokenizer: number;
  batchGenerator: number;
  batchClassifier: number;
  samplesPerClass: number;
  /** Guidance scales tried at generation, each reported. */
  guidance: number[];
  /** MaskGIT randomizeTemperature values tried (0: greedy, every sample of a class alike). */
  temperature: number[];
  /** MaskGIT sampling steps (64 tokens unmasked over 8 steps on MaskGIT's cosine schedule). */
  sampleSteps: number;
  seed: number;
  resume: boolean;
  quick: boolean;
  /** Checkpoint every this many steps of each stage. */
  checkpointEvery: number;
}

/** The defaults: sized so the whole run takes about 12 minutes on wasm with two busy cores (see README). */
export const DEFAULTS: Omit<DigitsOptions, 'out' | 'backend' | 'resume' | 'quick' | 'tokenizer' | 'teacher'> = {
  stepsTokenizer: 100,
  stepsStage2: 150,
  batchStage2: 16,
  stepsGenerator: 300,
  stepsClassifier: 300,
  trainImages: 3000,
  testImages: 500,
  batchTokenizer: 8,
  batchGenerator: 32,
  batchClassifier: 32,
  samplesPerClass: 10,
  guidance: [0, 1, 2],
  temperature: [0, 1],
  sampleSteps: 8,
  seed: 0,
  checkpointEvery: 100,
};

/**
 * `--tokenizer titok`: stage 1 (proxy codes) needs far more steps than the VQGAN: its decoder first learns
 * the codes' per-position frequencies and only after ~200 steps starts to read the tokens. Batch 16.
 */
export const TITOK_DEFAULTS: Partial<typeof DEFAULTS> = { stepsTokenizer: 1000, batchTokenizer: 16, trainImages: 6000 };

/** `--quick`: a run of seconds that goes through every stage (tests, a first try). */
export const QUICK: typeof DEFAULTS = {
  ...DEFAULTS,
  stepsTokenizer: 2,
  stepsStage2: 2,
  batchStage2: 4,
  stepsGenerator: 2,
  stepsClassifier: 2,
  trainImages: 16,
  testImages: 10,
  batchTokenizer: 4,
  batchGenerator: 8,
  batchClassifier: 8,
  samplesPerClass: 1,
  guidance: [0, 2],
  temperature: [0],
  sampleSteps: 4,
  checkpointEvery: 1,
};

export function parseOptions(argv: string[]): DigitsOptions {
  const bad = (message: string): never => {
    throw new ConfigError(`${message}\n${USAGE}`);
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        backend: { type: 'string' },
        tokenizer: { type: 'string' },
        teacher: { type: 'string' },
        'steps-tokenizer': { type: 'string' },
        'steps-stage2': { type: 'string' },
        'steps-generator': { type: 'string' },
        'steps-classifier': { type: 'string' },
        'train-images': { type: 'string' },
        'samples-per-class': { type: 'string' },
        guidance: { type: 'string' },
        temperature: { type: 'string' },
        seed: { type: 'string' },
        resume: { type: 'boolean' },
        quick: { type: 'boolean' },
      },
    }));
  } catch (error) {
    return bad((error as Error).message);
  }
  const base = values.quick ? QUICK : DEFAULTS;
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = values[name] as string | undefined;
    if (text === undefined) return fallback;
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) bad(`--${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got '${text}'`);
    return n;
  };
  const backend = (values.backend as string | undefined) ?? 'auto';
  if (!/^[a-z0-9-]+$/.test(backend)) bad(`--backend must be a backend name (auto, wasm, cpu, webgpu), got '${backend}'`);
  const out = (values.out as string | undefined) ?? (values.tokenizer === 'titok' ? 'digits-titok-run' : 'digits-run');
  if (!out.trim()) bad('--out must name a folder');
  const scales = (name: 'guidance' | 'temperature', fallback: number[]): number[] => {
    const text = values[name] as string | undefined;
    if (text === undefined) return fallback;
    const list = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (list.some((g) => !Number.isFinite(g) || g < 0)) bad(`--${name} must be a comma-separated list of numbers >= 0, got '${text}'`);
    return list;
  };
  const tokenizer = (values.tokenizer as string | undefined) ?? 'vqgan';
  if (tokenizer !== 'vqgan' && tokenizer !== 'titok') bad(`--tokenizer must be vqgan or titok, got '${tokenizer}'`);
  const teacher = values.teacher as string | undefined;
  if (teacher !== undefined && (tokenizer !== 'titok' || !teacher.trim())) bad(tokenizer === 'titok' ? '--teacher must name a model folder' : '--teacher is for --tokenizer titok (its stage 1 learns the teacher\'s codes)');
  const titok = tokenizer === 'titok' && !values.quick ? TITOK_DEFAULTS : {};
  const options: DigitsOptions = {
    ...base,
    ...titok,
    out,
    backend,
    tokenizer: tokenizer as DigitsOptions['tokenizer'],
    ...(teacher !== undefined ? { teacher } : {}),
    resume: Boolean(values.resume),
    quick: Boolean(values.quick),
    stepsTokenizer: int('steps-tokenizer', titok.stepsTokenizer ?? base.stepsTokenizer, 1),
    stepsStage2: int('steps-stage2', base.stepsStage2, 1),
    stepsGenerator: int('steps-generator', base.stepsGenerator, 1),
    stepsClassifier: int('steps-classifier', base.stepsClassifier, 1),
    // The train split holds 9,000 digits (every 10th of each class is held out as test).
    trainImages: int('train-images', titok.trainImages ?? base.trainImages, 10, 9000),
    samplesPerClass: int('samples-per-class', base.samplesPerClass, 1, 1000),
    guidance: scales('guidance', base.guidance),
    temperature: scales('temperature', base.temperature),
    seed: int('seed', base.seed, 0, 2 ** 31 - 1),
  };
  for (const [name, batch] of [['tokenizer', options.batchTokenizer], ...(options.tokenizer === 'titok' ? [['stage-2', options.batchStage2] as const] : []), ['generator', options.batchGenerator], ['classifier', options.batchClassifier]] as const) {
    if (options.trainImages < batch) bad(`--train-images (${options.trainImages}) must be at least the ${name} batch size (${batch})`);
  }
  return options;
}
