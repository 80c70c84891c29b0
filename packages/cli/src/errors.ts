/**
 * CLI errors: each carries the exit code it ends the process with. Errors from the libraries (core's typed
 * errors, Node's file errors) are mapped to the same codes by `describeError`, so every command reports
 * failures the same way.
 */
import { VtokError } from '@vtok/core';
import { ExitCode } from './exit-codes';

export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
    this.name = new.target.name;
  }
}

/** The command line is wrong (exit 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCode.Usage, message);
  }
}

/** An input cannot be used (exit 3). */
export class InputError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ExitCode.Input, message, options);
  }
}

/** An output cannot be written (exit 4); the message names the path. */
export class OutputError extends CliError {
  readonly path: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(ExitCode.Output, `cannot write ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** Stopped by the user (exit 130). */
export class InterruptedError extends CliError {
  constructor() {
    super(ExitCode.Interrupted, 'interrupted');
  }
}

// Core's errors that mean "this input cannot be used" rather than "vtok failed".
const inputCodes = new Set<VtokError['code']>([
  'FILE_NOT_FOUND',
  'DOWNLOAD',
  'CONFIG',
  'STATE_DICT',
  'SAFETENSORS',
  'TORCH_CHECKPOINT',
  'PICKLE_SECURITY',
  'UNKNOWN_PLUGIN',
  'CHECKPOINT',
  'TOKEN_SPACE_MISMATCH',
  'SHAPE',
  'DTYPE',
  'VALUE',
]);

/** The message to print and the exit code for any error a command threw. */
export function describeError(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof VtokError) {
    if (error.code === 'ABORTED') return { message: error.message, exitCode: ExitCode.Interrupted };
    if (error.code === 'SAVE') return { message: error.message, exitCode: ExitCode.Output };
    if (error.code === 'BACKEND_UNAVAILABLE') return { message: error.message, exitCode: ExitCode.Usage };
    return { message: error.message, exitCode: inputCodes.has(error.code) ? ExitCode.Input : ExitCode.Failure };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, exitCode: ExitCode.Failure };
}

/** Node's codes for a path that cannot be read or written. */
const fileErrorCodes = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENOSPC', 'EBUSY']);

/** Node's `code` of a file-system error, when it is one. */
export function fileErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && fileErrorCodes.has(code) ? code : undefined;
}
