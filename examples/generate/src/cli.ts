/**
 * The command line of the example, as a function so tests run it in-process: parses the arguments,
 * loads and pairs the models, generates, and writes one PNG per image (per frame for video).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@vtok/core';
import { encodePng } from './png';
import { framesOf, loadPipeline, TOKENIZER_KINDS, type TokenizerKind } from './pipeline';

export const USAGE = `usage: vtok-generate --tokenizer <titok|magvit2>:<folder> --generator <folder> --classes 1,2,3
  [--steps 8] [--guidance 4.5] [--seed 0] [--out generated]`;

/** Runs the example; returns the files written. Bad arguments throw ConfigError with the usage. */
export async function runCli(argv: string[], log: (line: string) => void = () => {}): Promise<string[]> {
  const bad = (message: string): never => {
    throw new ConfigError(`${message}\n${USAGE}`);
  };
  const { values } = parseArgs({
    args: argv,
    options: {
      tokenizer: { type: 'string' },
      generator: { type: 'string' },
      classes: { type: 'string' },
      steps: { type: 'string' },
      guidance: { type: 'string' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string', default: 'generated' },
    },
  });
  const [kind, ...rest] = (values.tokenizer ?? '').split(':');
  if (!TOKENIZER_KINDS.includes(kind as TokenizerKind) || rest.length === 0) bad('--tokenizer must be titok:<folder> or magvit2:<folder>');
  const generatorSource = values.generator ?? bad('--generator <folder> is required');
  const classes = (values.classes ?? '').split(',').filter(Boolean).map(Number);
  if (classes.length === 0 || classes.some((c) => !Number.isInteger(c))) bad('--classes must be a comma-separated list of class ids');
  const number = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : bad(`--${name} must be a number, got '${v}'`);
  };
  const sampling = { steps: number('steps', values.steps), guidanceScale: number('guidance', values.guidance), seed: number('seed', values.seed) };

  const pipeline = await loadPipeline({ tokenizer: { kind: kind as TokenizerKind, source: rest.join(':') }, generator: generatorSource });
  try {
    log(`token space: vocabulary ${pipeline.tokens.vocabSize}, shape [${pipeline.tokens.shape.join(', ')}]`);
    const started = performance.now();
    const images = await pipeline.generate({ classes, ...sampling, onProgress: (e) => log(`step ${e.step}/${e.of}`) });
    const { width, height, frames } = await framesOf(images).finally(() => images.dispose());
    mkdirSync(values.out!, { recursive: true });
    const written: string[] = [];
    frames.forEach((sample, b) =>
      sample.forEach((frame, t) => {
        const file = join(values.out!, `class-${classes[b]}-${b}${sample.length > 1 ? `-frame-${t}` : ''}.png`);
        writeFileSync(file, encodePng(frame, width, height));
        written.push(file);
        log(`wrote ${file}`);
      }),
    );
    log(`${classes.length} samples in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return written;
  } finally {
    pipeline.dispose();
  }
}
