/**
 * What a vtok command is: a name, a one-line summary, a usage text, its options (node:util parseArgs
 * options) and `run`. The framework (main.ts) parses the command line against `options`, answers
 * `--help`, and maps what `run` returns or throws to an exit code.
 */
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './errors';
import type { Output } from './output';

/** The options of a command, as node:util parseArgs takes them. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** One option's description for `--help`, keyed like `options`. */
export type OptionHelp = Record<string, string>;

/** What parseArgs gave for a command line. */
export interface ParsedCommand {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Where a command reads and writes: the process's streams and environment, or a test's. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  /** Relative paths on the command line are taken from here. */
  cwd: string;
  /** Aborted on Ctrl-C: long commands stop between steps and exit 130. */
  signal?: AbortSignal;
}

/** What a command's `run` gets besides its parsed arguments. */
export interface CommandContext {
  io: CliIO;
  /** Printing, `--json` and progress bars, set up from the common options. */
  output: Output;
  /** The version of @vtok/cli. */
  version: string;
}

export interface Command {
  name: string;
  /** One line for `vtok --help`. */
  summary: string;
  /** The synopsis and any notes for `vtok <name> --help`, without the option list (it is generated). */
  usage: string;
  /** Options besides the common `--help` and `--json`. */
  options: CommandOptions;
  /** One line per option for `--help`. */
  optionHelp?: OptionHelp;
  /** Whether positionals are allowed (file names, a model); default false. */
  allowPositionals?: boolean;
  /** Runs the command; resolves to the exit code. Throwing a CliError (or a core error) ends with its code. */
  run(parsed: ParsedCommand, context: CommandContext): Promise<number>;
}

/** The options every command takes. */
export const commonOptions = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies CommandOptions;

export const commonOptionHelp: OptionHelp = {
  help: 'show this help',
  json: 'print one JSON document on stdout instead of text (no progress bar)',
};

/** A string option's value, or the default; an option given twice takes the last. */
export function stringOption(parsed: ParsedCommand, name: string): string | undefined;
export function stringOption(parsed: ParsedCommand, name: string, fallback: string): string;
export function stringOption(parsed: ParsedCommand, name: string, fallback?: string): string | undefined {
  const v = parsed.values[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' ? last : fallback;
}

/** A boolean option: true when given. */
export function flagOption(parsed: ParsedCommand, name: string): boolean {
  return parsed.values[name] === true;
}

export interface NumberRange {
  integer?: boolean;
  min?: number;
  max?: number;
}

/** A numeric option checked against its range, or `fallback` when not given; a value out of range is a usage error (exit 2). */
export function numberOption(parsed: ParsedCommand, name: string, fallback: number, range?: NumberRange): number;
export function numberOption(parsed: ParsedCommand, name: string, fallback: undefined, range?: NumberRange): number | undefined;
export function numberOption(parsed: ParsedCommand, name: string, fallback: number | undefined, range: NumberRange = {}): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  const { integer = false, min = -Infinity, max = Infinity } = range;
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    const bounds = [min > -Infinity ? `>= ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}, got "${text}"`);
  }
  return value;
}
