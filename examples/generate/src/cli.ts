/**
 * The command line of the example, as a function so tests run it in-process: parses the arguments,
 * loads and pairs the models, generates, and writes one PNG per image (per frame for video).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { writePng } from '@vtok/cli';
import { ConfigError } from '@vtok/core';
import { loadPipeline, TOKENIZER_KINDS, type TokenizerKind } from './pipeline';

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
    // Images [B, H, W, 3] or video [B, T, H, W, 3]: one PNG per image (per frame), through @vtok/cli's writer.
    const framesPerSample = images.rank === 5 ? images.shape[1]! : 1;
    const frames = tf.tidy(() => tf.unstack(tf.reshape(images, [-1, ...images.shape.slice(-3)])) as tf.Tensor3D[]);
    images.dispose();
    const written: string[] = [];
    try {
      for (const [i, frame] of frames.entries()) {
        const [b, t] = [Math.floor(i / framesPerSample), i % framesPerSample];
        const file = join(values.out!, `class-${classes[b]}-${b}${framesPerSample > 1 ? `-frame-${t}` : ''}.png`);
        await writePng(file, frame);
        written.push(file);
        log(`wrote ${file}`);
      }
    } finally {
      tf.dispose(frames);
    }
    log(`${classes.length} samples in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return written;
  } finally {
    pipeline.dispose();
  }
}
