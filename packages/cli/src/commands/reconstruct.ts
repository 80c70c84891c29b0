/** `vtok reconstruct <images...> --model digits-vqgan --out dir|file.png`: encode, decode, PSNR per image. */
import * as tf from '@tensorflow/tfjs-core';
import { basename, extname, join } from 'node:path';
import { flagOption, numberOption, stringOption, type Command } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { comparisonGrid, readImages, writePng } from '../images';
import { loadTokenizerArgument, tokenBudget } from '../models';
import { prepareOutputFile, prepareOutputFolder, resolvePath } from '../paths';
import { mean, reconstructImages } from '../work';
import { loadOptions, modelCommandHelp, modelCommandOptions, startBackend } from './model-options';

export const reconstructCommand: Command = {
  name: 'reconstruct',
  summary: 'encode images to tokens and decode them back; print the PSNR of each',
  usage: [
    'usage: vtok reconstruct <image or folder>... --model <model> [--out <folder> | --out <file.png>]',
    '',
    'Images are PNG, JPEG or WebP files, or folders of them, of the size the tokenizer takes (or --resize).',
    '--out <folder> writes one reconstruction per image (same name, .png); --out <file.png> one picture with',
    'the originals above their reconstructions.',
  ].join('\n'),
  allowPositionals: true,
  options: {
    ...modelCommandOptions,
    model: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    resize: { type: 'boolean' },
    columns: { type: 'string' },
  },
  optionHelp: {
    ...modelCommandHelp,
    model: 'tokenizer: a zoo name (digits-vqgan), a folder, a URL or an hf:owner/name id (default digits-vqgan)',
    out: 'a folder (one PNG per image) or a .png file (originals above reconstructions); default: none, PSNR only',
    resize: "scale images to the tokenizer's input size (cover, centre kept) instead of refusing other sizes",
    columns: 'images per row of the --out file.png picture (default 8)',
  },
  async run(parsed, context) {
    const { io, output } = context;
    if (!parsed.positionals.length) throw new UsageError('give at least one image file or folder (see: vtok reconstruct --help)');
    const modelName = stringOption(parsed, 'model', 'digits-vqgan');
    const outArg = stringOption(parsed, 'out');
    const columns = numberOption(parsed, 'columns', 8, { integer: true, min: 1 });
    const out = outArg === undefined ? undefined : resolvePath(io, outArg);
    const toFile = out !== undefined && extname(out).toLowerCase() === '.png';
    if (out) await (toFile ? prepareOutputFile(out) : prepareOutputFolder(out));

    const started = performance.now();
    const backend = await startBackend(parsed, context);
    const { model: tokenizer, source } = await loadTokenizerArgument(modelName, { cwd: io.cwd, ...loadOptions(context) });
    try {
      const [height, width] = tokenizer.inputShape;
      const { images, files } = await readImages(parsed.positionals.map((p) => resolvePath(io, p)), {
        size: [height, width],
        resize: flagOption(parsed, 'resize'),
      });
      try {
        const bar = output.progress('reconstruct', files.length);
        const result = await reconstructImages(tokenizer, images, { onProgress: (d) => bar.update(d), signal: io.signal });
        bar.finish();
        try {
          const written: string[] = [];
          if (out && toFile) {
            const grid = comparisonGrid(images, result.reconstructions, columns);
            await writePng(out, grid).finally(() => grid.dispose());
            written.push(out);
          } else if (out) {
            const names = outputNames(files);
            for (let i = 0; i < files.length; i++) {
              const image = tf.tidy(() => tf.squeeze(tf.slice(result.reconstructions, [i, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D);
              await writePng(join(out, names[i]), image).finally(() => image.dispose());
              written.push(join(out, names[i]));
            }
          }
          const budget = tokenBudget(tokenizer.tokens);
          const perImage = files.map((file, i) => ({ file, psnr: round(result.psnr[i]) }));
          const meanPsnr = round(mean(result.psnr));
          for (const { file, psnr } of perImage) output.line(`${file}: PSNR ${psnr.toFixed(2)} dB`);
          output.line(`mean PSNR ${meanPsnr.toFixed(2)} dB over ${files.length} image${files.length === 1 ? '' : 's'}; ${budget.tokensPerImage} tokens × ${budget.bitsPerToken} bits = ${budget.bytesPerImage} bytes per image`);
          for (const w of written) output.line(`wrote ${w}`);
          output.result({
            model: modelName,
            source,
            backend,
            images: perImage,
            meanPsnr,
            ...budget,
            written,
            seconds: round((performance.now() - started) / 1000),
          });
        } finally {
          tf.dispose([result.tokens, result.reconstructions]);
        }
      } finally {
        images.dispose();
      }
    } finally {
      tokenizer.dispose();
    }
    return ExitCode.Success;
  },
};

const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Output file names: each input's base name as .png; with an index in front when two inputs share a name. */
function outputNames(files: readonly string[]): string[] {
  const names = files.map((f) => `${basename(f, extname(f))}.png`);
  const unique = new Set(names).size === names.length;
  return unique ? names : names.map((n, i) => `${String(i).padStart(String(files.length - 1).length, '0')}-${n}`);
}
