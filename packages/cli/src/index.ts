/**
 * @vtok/cli as a library: run the command line in-process, and the helpers its commands use.
 */
export { runCli, processIO, cliVersion } from './main';
export { ExitCode } from './exit-codes';
export { CliError, UsageError, InputError, OutputError, InterruptedError, describeError } from './errors';
export type { Command, CommandContext, CommandOptions, CliIO, ParsedCommand } from './command';
export { readImages, listImageFiles, encodePng, writePng, imageGrid, comparisonGrid, type ReadImages, type ReadImagesOptions } from './images';
export { loadModelArgument, architectureOf, tokenBudget, type LoadedModel, type Architecture } from './models';
export {
  TOKEN_FILE_MAGIC,
  TOKEN_FILE_VERSION,
  TokenFileError,
  type TokenFile,
  type TokenFileHeader,
  type TokenFileDescription,
  type ShardInfo,
  bitsPerToken,
  bytesPerEntry,
  tokensPerEntry,
  tokenFileHeader,
  packBits,
  unpackBits,
  packEntries,
  unpackEntries,
  serializeTokenFile,
  parseTokenFile,
  readTokenFile,
  writeTokenFile,
  tokenFileJson,
} from './token-file';
export { type ResumableTokenFile, openResumableTokenFile } from './resumable-token-file';
export { type Shard, parseShard, shardFromOptions, shardRange, shardFileName, namesSha256, mergeShards, JOB_INDEX_VARIABLE, SHARDS_VARIABLE } from './shard';
