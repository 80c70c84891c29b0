/**
 * `runCli(argv, io)`: the whole vtok command line in one function, so tests run it in-process and bin.ts
 * runs it for the shell. It picks the command, parses its options strictly (an unknown option is a usage
 * error, exit 2), answers --help and --version, and turns whatever the command throws into a message on
 * stderr (and a JSON error document with --json) and the matching exit code.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { commonOptionHelp, commonOptions, type CliIO, type Command, type CommandOptions, type ParsedCommand } from './command';
import { commands } from './commands/index';
import { describeError, UsageError } from './errors';
import { ExitCode } from './exit-codes';
import { createOutput } from './output';

/** @vtok/cli's version (src/ and dist/ both sit one folder below package.json). */
export const cliVersion: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** The process's own streams, environment and folder. */
export function processIO(signal?: AbortSignal): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal };
}

export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = topic ? findCommand(topic) : undefined;
    if (topic && !command) return usageFailure(io, unknownCommand(topic), false);
    io.stdout.write(command ? commandHelp(command) : generalHelp());
    return ExitCode.Success;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${cliVersion}\n`);
    return ExitCode.Success;
  }
  const command = findCommand(first);
  if (!command) return usageFailure(io, unknownCommand(first), rest.includes('--json'));

  let parsed: ParsedCommand;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...commonOptions, ...command.options },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    }) as ParsedCommand;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return usageFailure(io, `${message}\nsee: vtok ${command.name} --help`, rest.includes('--json'));
  }
  if (parsed.values.help === true) {
    io.stdout.write(commandHelp(command));
    return ExitCode.Success;
  }
  const json = parsed.values.json === true;
  const output = createOutput(io, json);
  try {
    return await command.run(parsed, { io, output, version: cliVersion });
  } catch (error) {
    const { message, exitCode } = describeError(error);
    return report(io, message, exitCode, json);
  }
}

function findCommand(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

function unknownCommand(name: string): string {
  return `unknown command "${name}"; the commands are: ${commands.map((c) => c.name).join(', ')}\nsee: vtok --help`;
}

function usageFailure(io: CliIO, message: string, json: boolean): number {
  return report(io, new UsageError(message).message, ExitCode.Usage, json);
}

function report(io: CliIO, message: string, exitCode: number, json: boolean): number {
  io.stderr.write(`vtok: ${message}\n`);
  if (json) io.stdout.write(`${JSON.stringify({ error: { message, exitCode } }, null, 2)}\n`);
  return exitCode;
}

export function generalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `vtok ${cliVersion}: visual tokenizers and MaskGIT generation from the command line`,
    '',
    'usage: vtok <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'every command takes --help and --json; model commands take --backend auto|cpu|wasm|webgpu|cuda (or VTOK_BACKEND).',
    'exit codes: 0 success, 1 unexpected failure, 2 usage error, 3 input error, 4 output error, 130 interrupted.',
    'vtok --version prints the version.',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const help = { ...(command.optionHelp ?? {}), ...commonOptionHelp };
  const all: CommandOptions = { ...command.options, ...commonOptions };
  const flags = Object.entries(all).map(([name, o]) => {
    const short = 'short' in o && o.short ? `-${o.short}, ` : '';
    return [`${short}--${name}${o.type === 'string' ? ' <value>' : ''}`, help[name] ?? ''] as const;
  });
  const width = Math.max(...flags.map(([f]) => f.length));
  return [
    `vtok ${command.name}: ${command.summary}`,
    '',
    command.usage.trimEnd(),
    '',
    'options:',
    ...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`.trimEnd()),
    '',
  ].join('\n');
}
