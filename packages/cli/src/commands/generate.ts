/** `vtok generate --model digits-maskgit --class 7 --n 16 --out grid.png`: class-conditional samples as a PNG grid. */
import * as tf from '@tensorflow/tfjs-core';
import { numberOption, stringOption, type Command, type ParsedCommand } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { imageGrid, writePng } from '../images';
import { loadGeneratorArgument, loadTokenizerArgument } from '../models';
import { prepareOutputFile, resolvePath } from '../paths';
import { generateImages, type GenerateOptions } from '../work';
import { loadOptions, modelCommandHelp, modelCommandOptions, startBackend } from './model-options';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'sample images of given classes with a MaskGIT generator and write them as a PNG grid',
  usage: [
    'usage: vtok generate --model <generator> [--tokenizer <tokenizer>] --class <c[,c...]|all> [--n <per class>] --out <grid.png>',
    '',
    'One row per class, --n samples in each. Sampling settings default to the zoo card\'s recommended ones',
    "(else the generator's config).",
  ].join('\n'),
  options: {
    ...modelCommandOptions,
    model: { type: 'string', short: 'm' },
    tokenizer: { type: 'string', short: 't' },
    class: { type: 'string', short: 'c' },
    n: { type: 'string', short: 'n' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    guidance: { type: 'string' },
    temperature: { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  optionHelp: {
    ...modelCommandHelp,
    model: 'generator: a zoo name (digits-maskgit), a folder, a URL or an hf: id (default digits-maskgit)',
    tokenizer: "the tokenizer that decodes its tokens (default: the zoo card's, digits-vqgan for digits-maskgit)",
    class: 'class labels, comma-separated, or "all" (default all)',
    n: 'samples per class (default 8)',
    steps: 'sampling steps',
    seed: 'random seed (default 1): the same seed gives the same images on the same backend',
    guidance: 'classifier-free guidance scale',
    temperature: 'randomize temperature (0 = greedy)',
    out: 'the PNG grid to write (required)',
  },
  async run(parsed, context) {
    const { io, output } = context;
    const outArg = stringOption(parsed, 'out');
    if (!outArg) throw new UsageError('--out <grid.png> is required (see: vtok generate --help)');
    const out = resolvePath(io, outArg);
    const perClass = numberOption(parsed, 'n', 8, { integer: true, min: 1, max: 1024 });
    const seed = numberOption(parsed, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
    await prepareOutputFile(out);

    const started = performance.now();
    const backend = await startBackend(parsed, context);
    const load = { cwd: io.cwd, ...loadOptions(context) };
    const modelName = stringOption(parsed, 'model', 'digits-maskgit');
    const { model: generator, card } = await loadGeneratorArgument(modelName, load);
    try {
      const tokenizerName = stringOption(parsed, 'tokenizer') ?? card?.tokenizer;
      if (!tokenizerName) throw new UsageError(`${modelName} names no tokenizer; pass --tokenizer <tokenizer>`);
      const classList = parseClasses(parsed, generator.numClasses);
      const sampling = samplingOptions(parsed, seed, card?.sampling);
      const { model: tokenizer } = await loadTokenizerArgument(tokenizerName, load);
      try {
        const classes = classList.flatMap((c) => Array<number>(perClass).fill(c));
        const bar = output.progress('generate', classes.length);
        const { images, sampleMs } = await generateImages(tokenizer, generator, classes, sampling, { onProgress: (d) => bar.update(d), signal: io.signal });
        bar.finish();
        const grid = imageGrid(images, perClass, 1);
        images.dispose();
        await writePng(out, grid).finally(() => grid.dispose());
        const seconds = (performance.now() - started) / 1000;
        output.line(`generated ${classes.length} images (classes ${classList.join(', ')}, ${perClass} each) in ${(sampleMs / 1000).toFixed(1)} s`);
        output.line(`wrote ${out}`);
        output.result({ model: modelName, tokenizer: tokenizerName, backend, classes: classList, perClass, sampling, written: [out], sampleSeconds: sampleMs / 1000, seconds });
      } finally {
        tokenizer.dispose();
      }
    } finally {
      generator.dispose();
    }
    return ExitCode.Success;
  },
};

/** --class: "all", or comma-separated labels each in [0, numClasses). */
function parseClasses(parsed: ParsedCommand, numClasses: number): number[] {
  const text = stringOption(parsed, 'class', 'all').trim();
  if (text === 'all') return Array.from({ length: numClasses }, (_, i) => i);
  const labels = text.split(',').map((s) => s.trim());
  const bad = labels.find((s) => !/^\d+$/.test(s) || Number(s) >= numClasses);
  if (bad !== undefined) throw new UsageError(`--class takes labels 0 to ${numClasses - 1} (comma-separated) or "all"; got "${bad}"`);
  return labels.map(Number);
}

/** Sampling settings: the options given, else the card's recommendation, else the generator's config (left undefined). */
function samplingOptions(parsed: ParsedCommand, seed: number, recommended?: { steps: number; guidanceScale: number; randomizeTemperature: number }): GenerateOptions {
  return {
    seed,
    steps: numberOption(parsed, 'steps', undefined, { integer: true, min: 1, max: 1000 }) ?? recommended?.steps,
    guidanceScale: numberOption(parsed, 'guidance', undefined, { min: 0 }) ?? recommended?.guidanceScale,
    randomizeTemperature: numberOption(parsed, 'temperature', undefined, { min: 0 }) ?? recommended?.randomizeTemperature,
  };
}
