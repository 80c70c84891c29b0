/**
 * `vtok merge`: the shard files of one sharded `vtok encode` → the one token file an unsharded run writes.
 * Refuses shards of different runs, a shard given twice and missing shards (see mergeShards).
 */
import { stringOption, type Command } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { prepareOutputFile, resolvePath } from '../paths';
import { mergeShards } from '../shard';
import { readTokenFile, writeTokenFile } from '../token-file';

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'join the shard files of a sharded encode into one token file',
  usage: [
    'usage: vtok merge <folder>/shard-*.vtok --out all.vtok',
    '',
    'The shards may come in any order; each of 0..n-1 must be there once, all from the same list and tokenizer.',
    'The result is byte for byte the file one unsharded `vtok encode` with the same --batch writes.',
  ].join('\n'),
  allowPositionals: true,
  options: {
    out: { type: 'string', short: 'o' },
  },
  optionHelp: {
    out: 'the token file to write',
  },
  async run(parsed, { io, output }) {
    if (!parsed.positionals.length) throw new UsageError('name the shard files to merge, e.g. out/shard-*.vtok');
    const out = stringOption(parsed, 'out');
    if (!out) throw new UsageError('--out is required: the merged token file');
    const target = resolvePath(io, out);
    await prepareOutputFile(target);
    const shards = [];
    for (const name of parsed.positionals) shards.push({ path: name, file: await readTokenFile(resolvePath(io, name)) });
    const merged = await mergeShards(shards);
    await writeTokenFile(target, merged);
    const { header } = merged;
    output.result({ out: target, shards: shards.length, images: header.count, tokenizer: header.tokenizer, bytesPerImage: header.bytesPerEntry });
    output.line(`${target}: ${header.count} images from ${shards.length} shards, ${header.bytesPerEntry} bytes per image`);
    return ExitCode.Success;
  },
};
