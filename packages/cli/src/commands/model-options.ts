/** Options and steps the model commands share: --model, the backend, loading with progress. */
import type { LoadOptions } from '@vtok/core';
import { activateBackend, backendJson, backendOptionHelp, backendOptions, printBackend } from '../backend';
import type { CommandContext, ParsedCommand } from '../command';

export const modelCommandOptions = {
  ...backendOptions,
} as const;

export const modelCommandHelp = { ...backendOptionHelp };

/** Activates the backend and prints which one runs (text mode); returns it for --json documents. */
export async function startBackend(parsed: ParsedCommand, { io, output }: CommandContext) {
  const info = await activateBackend(parsed, io);
  printBackend(info, output);
  return backendJson(info);
}

/** Load options that honour Ctrl-C. */
export const loadOptions = ({ io }: CommandContext): LoadOptions => ({ signal: io.signal });
