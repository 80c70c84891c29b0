/**
 * `vtok decode`: a .vtok token file → PNG images, one per entry named after it in a folder, or one grid
 * picture when --out ends in .png. The tokenizer is the one the file names unless --model says otherwise;
 * it must have the file's token space.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TokenSpaceMismatchError } from '@vtok/core';
import { activateBackend, backendJson, backendOptionHelp, backendOptions } from '../backend';
import { numberOption, stringOption, type Command } from '../command';
import { InputError, InterruptedError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { imageGrid, writePng } from '../images';
import { loadTokenizerArgument } from '../models';
import { readTokenFile, tokensPerEntry } from '../token-file';
import { prepareOutputFile, prepareOutputFolder, resolvePath } from '../paths';
import { DEFAULT_BATCH } from './encode';

/** The PNG an entry decodes to inside the output folder: its name with .png for its extension, kept inside the folder. */
export function outputName(name: string): string {
  const parts = name.split('/').filter((p) => p && p !== '.' && p !== '..');
  const last = (parts.pop() ?? 'image').replace(/\.[^.]*$/, '');
  return [...parts, `${last || 'image'}.png`].join('/');
}

export const decodeCommand: Command = {
  name: 'decode',
  summary: 'a token file → PNG images (a folder named after the entries, or one grid .png)',
  usage: [
    'usage: vtok decode tokens.vtok --out <folder>          (one PNG per image, named after its entry)',
    '       vtok decode tokens.vtok --out grid.png          (every image in one grid)',
    '',
    'The tokenizer is the one the token file names (its header); --model picks another with the same token space.',
    'A damaged or truncated token file is refused (exit 3) before anything is decoded.',
  ].join('\n'),
  allowPositionals: true,
  options: {
    out: { type: 'string', short: 'o' },
    model: { type: 'string', short: 'm' },
    batch: { type: 'string' },
    columns: { type: 'string' },
    ...backendOptions,
  },
  optionHelp: {
    out: 'a folder for one PNG per image, or a .png path for one grid',
    model: 'the tokenizer (default: the one named in the token file)',
    batch: `images decoded at once (default ${DEFAULT_BATCH})`,
    columns: 'images per row of the grid (default: a square)',
    ...backendOptionHelp,
  },
  async run(parsed, { io, output }) {
    if (parsed.positionals.length !== 1) throw new UsageError(`decode takes one token file, got ${parsed.positionals.length} arguments`);
    const out = stringOption(parsed, 'out');
    if (!out) throw new UsageError('--out is required: a folder for PNGs, or a .png file for a grid');
    const batch = numberOption(parsed, 'batch', DEFAULT_BATCH, { integer: true, min: 1 });
    const columnsGiven = numberOption(parsed, 'columns', undefined, { integer: true, min: 1 });

    const { join } = await import('node:path');
    const file = await readTokenFile(resolvePath(io, parsed.positionals[0]));
    const { header } = file;
    if (header.count === 0) throw new InputError(`${parsed.positionals[0]} holds no images`);
    const target = resolvePath(io, out);
    const grid = /\.png$/i.test(out);
    // An unwritable output is found before a model is loaded.
    await (grid ? prepareOutputFile(target) : prepareOutputFolder(target));

    const backend = await activateBackend(parsed, io);
    const modelArgument = stringOption(parsed, 'model') ?? header.tokenizer;
    const { model: tokenizer } = await loadTokenizerArgument(modelArgument, { cwd: io.cwd });
    const written: string[] = [];
    try {
      const space = tokenizer.tokens;
      if (space.vocabSize !== header.vocabSize || JSON.stringify([...space.shape]) !== JSON.stringify(header.tokenShape)) {
        throw new TokenSpaceMismatchError(
          `${parsed.positionals[0]} holds tokens of shape [${header.tokenShape.join(', ')}] from ${header.vocabSize} codes; ${modelArgument} takes shape [${space.shape.join(', ')}] from ${space.vocabSize}`,
        );
      }
      const per = tokensPerEntry(header.tokenShape);
      const progress = output.progress('decode', header.count);
      const pictures: tf.Tensor4D[] = [];
      try {
        for (let from = 0; from < header.count; from += batch) {
          if (io.signal?.aborted) throw new InterruptedError();
          const size = Math.min(batch, header.count - from);
          const tokens = tf.tensor(file.tokens.subarray(from * per, (from + size) * per), [size, ...header.tokenShape], 'int32');
          const images = (await tokenizer.decode(tokens).finally(() => tokens.dispose())) as tf.Tensor4D;
          if (grid) pictures.push(images);
          else {
            try {
              for (let i = 0; i < size; i++) {
                const path = join(target, outputName(header.names[from + i]));
                const image = tf.tidy(() => tf.squeeze(tf.slice(images, [i, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D);
                await writePng(path, image).finally(() => image.dispose());
                written.push(path);
              }
            } finally {
              images.dispose();
            }
          }
          progress.update(from + size);
        }
        if (grid) {
          const columns = columnsGiven ?? Math.ceil(Math.sqrt(header.count));
          const all = tf.concat(pictures) as tf.Tensor4D;
          const picture = imageGrid(all, columns, 2);
          all.dispose();
          await writePng(target, picture).finally(() => picture.dispose());
          written.push(target);
        }
      } finally {
        progress.finish();
        for (const p of pictures) p.dispose();
      }
      output.result({ out: target, images: header.count, tokenizer: modelArgument, grid, files: written, backend: backendJson(backend) });
      output.line(grid ? `${target}: ${header.count} images in one grid` : `${target}: ${header.count} PNG images`);
      return ExitCode.Success;
    } finally {
      tokenizer.dispose();
    }
  },
};
