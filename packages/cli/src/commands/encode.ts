/**
 * `vtok encode`: images → a .vtok token file (or, with --json and no --out, the tokens as JSON). With a
 * shard (--shard i/n, or a Kubernetes Indexed Job's index) it encodes only its part of the sorted list into
 * `<out>/shard-0000i-of-0000n.vtok`, for `vtok merge`. Output is written batch by batch and resumes after
 * a kill (see resumable-token-file.ts).
 */
import { activateBackend, backendJson, backendOptionHelp, backendOptions } from '../backend';
import { flagOption, numberOption, stringOption, type Command } from '../command';
import { InterruptedError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { readImages } from '../images';
import { listInputs } from '../input-list';
import { loadTokenizerArgument } from '../models';
import { prepareOutputFile, resolvePath } from '../paths';
import { openResumableTokenFile } from '../resumable-token-file';
import { namesSha256, shardFileName, shardFromOptions, shardRange } from '../shard';
import { tokenFileHeader, tokenFileJson, tokensPerEntry } from '../token-file';

export const DEFAULT_BATCH = 16;


export const encodeCommand: Command = {
  name: 'encode',
  summary: 'images → a token file (.vtok, bit-packed), or JSON; one shard of a list with --shard',
  usage: [
    'usage: vtok encode <image files | folders | @list.txt>... --model <tokenizer> --out tokens.vtok [--batch 16]',
    '       vtok encode <inputs>... --model <tokenizer> --json                  (tokens as JSON on stdout)',
    '       vtok encode <inputs>... --model <tokenizer> --out <folder> --shard i/n',
    '',
    'Entries are sorted by name: a folder\'s images by their path inside it, a list\'s lines as written (relative',
    'to the list\'s folder), files by their path from here. The token file holds a header naming the tokenizer and',
    'the images, then each image\'s tokens in ceil(log2(vocabulary)) bits (digits-vqgan: 64 bytes per image).',
    '',
    'Sharding: --shard i/n (0 <= i < n) encodes the i-th of n contiguous parts of the list into',
    '<out>/shard-0000i-of-0000n.vtok. In a Kubernetes Indexed Job the index comes from JOB_COMPLETION_INDEX and the',
    'count from --shards n or VTOK_SHARDS. `vtok merge <out>/shard-*.vtok --out all.vtok` then writes the file one',
    'unsharded run with the same --batch writes. A run that is stopped goes on where it left off when started again.',
  ].join('\n'),
  allowPositionals: true,
  options: {
    model: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    batch: { type: 'string' },
    shard: { type: 'string' },
    shards: { type: 'string' },
    resize: { type: 'boolean' },
    ...backendOptions,
  },
  optionHelp: {
    model: 'the tokenizer: a zoo name (digits-vqgan), a folder, a URL or an hf: id',
    out: 'the token file to write (a folder with --shard/--shards)',
    batch: `images encoded at once (default ${DEFAULT_BATCH}); shards cut at batch boundaries`,
    shard: 'i/n: encode only shard i of n (counting from 0)',
    shards: 'n: the number of shards, the index taken from JOB_COMPLETION_INDEX (or set VTOK_SHARDS)',
    resize: 'scale images to the tokenizer\'s input size instead of refusing other sizes',
    ...backendOptionHelp,
  },
  async run(parsed, { io, output }) {
    const modelArgument = stringOption(parsed, 'model');
    if (!modelArgument) throw new UsageError('--model is required: the tokenizer to encode with, e.g. --model digits-vqgan');
    const out = stringOption(parsed, 'out');
    if (!out && !output.json) throw new UsageError('--out is required (the token file to write), or --json to print the tokens');
    const batch = numberOption(parsed, 'batch', DEFAULT_BATCH, { integer: true, min: 1 });
    const shard = shardFromOptions({ shard: stringOption(parsed, 'shard'), shards: stringOption(parsed, 'shards') }, io.env);
    if (shard && !out) throw new UsageError('a shard is written to a folder: give --out <folder>');

    const { join } = await import('node:path');
    const entries = await listInputs(parsed.positionals, io.cwd);
    const { start, end } = shard ? shardRange(entries.length, batch, shard) : { start: 0, end: entries.length };
    const mine = entries.slice(start, end);
    const target = out ? (shard ? join(resolvePath(io, out), shardFileName(shard)) : resolvePath(io, out)) : undefined;
    if (target) await prepareOutputFile(target);

    const backend = await activateBackend(parsed, io);
    const { model: tokenizer } = await loadTokenizerArgument(modelArgument, { cwd: io.cwd });
    try {
      const [height, width] = tokenizer.inputShape;
      const header = tokenFileHeader(
        {
          tokenizer: modelArgument,
          tokenShape: [...tokenizer.tokens.shape],
          vocabSize: tokenizer.tokens.vocabSize,
          imageShape: [...tokenizer.inputShape],
          names: mine.map((e) => e.name),
          ...(shard ? { shard: { ...shard, total: entries.length, namesSha256: await namesSha256(entries.map((e) => e.name)) } } : {}),
        },
        mine.length,
      );
      const encodeBatch = async (from: number): Promise<Int32Array> => {
        const files = mine.slice(from, from + batch).map((e) => e.path);
        const { images } = await readImages(files, { size: [height, width], resize: flagOption(parsed, 'resize') });
        let tokens: Awaited<ReturnType<typeof tokenizer.encode>> | undefined;
        try {
          tokens = await tokenizer.encode(images);
          return new Int32Array(await tokens.data());
        } finally {
          images.dispose();
          tokens?.dispose();
        }
      };
      const progress = output.progress(shard ? `encode shard ${shard.index}/${shard.count}` : 'encode', mine.length);
      const checkInterrupted = () => {
        if (io.signal?.aborted) throw new InterruptedError();
      };

      if (!target) {
        // --json without --out: every image's tokens on stdout, nothing written.
        const all = new Int32Array(mine.length * tokensPerEntry(header.tokenShape));
        for (let from = 0; from < mine.length; from += batch) {
          checkInterrupted();
          all.set(await encodeBatch(from), from * tokensPerEntry(header.tokenShape));
          progress.update(Math.min(mine.length, from + batch));
        }
        progress.finish();
        output.result({ ...tokenFileJson({ header, tokens: all }), backend: backendJson(backend) });
        return ExitCode.Success;
      }

      const file = await openResumableTokenFile(target, header, batch);
      if (file.restarted) output.note(file.restarted);
      if (file.done > 0) output.note(file.done === mine.length ? `${target} is already complete` : `resuming ${target}: ${file.done} of ${mine.length} images already encoded`);
      try {
        for (let from = file.done; from < mine.length; from += batch) {
          checkInterrupted();
          await file.append(await encodeBatch(from));
          progress.update(Math.min(mine.length, from + batch));
        }
        progress.finish();
        await file.finish();
      } catch (error) {
        progress.finish();
        await file.close().catch(() => undefined);
        throw error;
      }
      const fileBytes = (await (await import('node:fs/promises')).stat(target)).size;
      const summary = {
        out: target,
        tokenizer: modelArgument,
        images: mine.length,
        resumedFrom: file.done,
        shape: header.tokenShape,
        vocabSize: header.vocabSize,
        bitsPerToken: header.bitsPerToken,
        bytesPerImage: header.bytesPerEntry,
        tokenBytes: mine.length * header.bytesPerEntry,
        fileBytes,
        ...(shard ? { shard: { index: shard.index, count: shard.count, first: start, total: entries.length } } : {}),
        backend: backendJson(backend),
      };
      output.result(summary);
      output.line(
        `${target}: ${mine.length} images${shard ? ` (shard ${shard.index} of ${shard.count}: ${end > start ? `entries ${start}..${end - 1}` : 'none'} of ${entries.length} entries)` : ''}, ` +
          `${tokensPerEntry(header.tokenShape)} tokens × ${header.bitsPerToken} bits = ${header.bytesPerEntry} bytes per image; ${fileBytes} bytes with header and checksum`,
      );
      return ExitCode.Success;
    } finally {
      tokenizer.dispose();
    }
  },
};
