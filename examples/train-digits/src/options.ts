/** The command line: every option, its default, and a ConfigError with the usage for anything else. */
import { parseArgs } from 'node:util';
import { ConfigError } from '@vtok/core';

export const USAGE = `usage: vtok-train-digits [--out digits-run] [--backend auto|wasm|cpu|webgpu]
  [--steps-tokenizer N] [--steps-generator N] [--steps-classifier N] [--train-images N]
  [--samples-per-class N] [--guidance 0,2] [--temperature 0,1] [--seed N] [--resume] [--quick]`;

export interface DigitsOptions {
  out: string;
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
export const DEFAULTS: Omit<DigitsOptions, 'out' | 'backend' | 'resume' | 'quick'> = {
  stepsTokenizer: 100,
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

/** `--quick`: a run of seconds that goes through every stage (tests, a first try). */
export const QUICK: typeof DEFAULTS = {
  ...DEFAULTS,
  stepsTokenizer: 2,
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
        'steps-tokenizer': { type: 'string' },
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
  const out = (values.out as string | undefined) ?? 'digits-run';
  if (!out.trim()) bad('--out must name a folder');
  const scales = (name: 'guidance' | 'temperature', fallback: number[]): number[] => {
    const text = values[name] as string | undefined;
    if (text === undefined) return fallback;
    const list = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (list.some((g) => !Number.isFinite(g) || g < 0)) bad(`--${name} must be a comma-separated list of numbers >= 0, got '${text}'`);
    return list;
  };
  const options: DigitsOptions = {
    ...base,
    out,
    backend,
    resume: Boolean(values.resume),
    quick: Boolean(values.quick),
    stepsTokenizer: int('steps-tokenizer', base.stepsTokenizer, 1),
    stepsGenerator: int('steps-generator', base.stepsGenerator, 1),
    stepsClassifier: int('steps-classifier', base.stepsClassifier, 1),
    // The train split holds 9,000 digits (every 10th of each class is held out as test).
    trainImages: int('train-images', base.trainImages, 10, 9000),
    samplesPerClass: int('samples-per-class', base.samplesPerClass, 1, 1000),
    guidance: scales('guidance', base.guidance),
    temperature: scales('temperature', base.temperature),
    seed: int('seed', base.seed, 0, 2 ** 31 - 1),
  };
  for (const [name, batch] of [['tokenizer', options.batchTokenizer], ['generator', options.batchGenerator], ['classifier', options.batchClassifier]] as const) {
    if (options.trainImages < batch) bad(`--train-images (${options.trainImages}) must be at least the ${name} batch size (${batch})`);
  }
  return options;
}
