/**
 * @vtok/cli as a library: run the command line in-process, and the helpers its commands use.
 */
export { runCli, processIO, cliVersion } from './main';
export { ExitCode } from './exit-codes';
export { CliError, UsageError, InputError, OutputError, InterruptedError, describeError } from './errors';
export type { Command, CommandContext, CommandOptions, CliIO, ParsedCommand } from './command';
