/**
 * `--backend auto|cpu|wasm|webgpu|cuda` (default: VTOK_BACKEND, else auto) through core's backend selection.
 * The backend packages are dependencies of the CLI, so they are imported from here (core alone could not
 * resolve them under pnpm's strict layout).
 */
import { autoOrder, probeBackends, useBackend, type BackendInfo } from '@vtok/core';
import { stringOption, type CliIO, type CommandOptions, type OptionHelp, type ParsedCommand } from './command';
import { UsageError } from './errors';
import type { Output } from './output';

export const backendNames = ['auto', ...autoOrder] as const;

export const backendOptions = {
  backend: { type: 'string', short: 'b' },
} as const satisfies CommandOptions;

export const backendOptionHelp: OptionHelp = {
  backend: `${backendNames.join('|')} (default: $VTOK_BACKEND, else auto = the fastest that works here)`,
};

const importBackendPackage = (name: string): Promise<Record<string, unknown>> => import(/* @vite-ignore */ name);

/** The backend asked for by --backend or VTOK_BACKEND; a name vtok does not know is a usage error. */
export function backendChoice(parsed: ParsedCommand, io: CliIO): string {
  const flag = stringOption(parsed, 'backend');
  const choice = (flag ?? io.env.VTOK_BACKEND ?? 'auto').trim() || 'auto';
  if (!(backendNames as readonly string[]).includes(choice)) {
    const from = flag === undefined ? 'VTOK_BACKEND' : '--backend';
    throw new UsageError(`${from} "${choice}" is not a backend; expected one of: ${backendNames.join(', ')}`);
  }
  return choice;
}

/** Activates the chosen backend; a named backend that cannot run here throws core's BackendUnavailableError. */
export async function activateBackend(parsed: ParsedCommand, io: CliIO): Promise<BackendInfo> {
  return useBackend(backendChoice(parsed, io), { importPackage: importBackendPackage, ignoreEnv: true });
}

/** The report the demo has always printed: which backend runs, on what, and why each faster one did not. */
export function printBackend(info: BackendInfo, output: Output): void {
  output.line(`backend: ${info.name} (tfjs "${info.tfBackend}") on ${info.device}`);
  for (const { name, reason } of info.reasonsOthersFailed) output.line(`  not ${name}: ${reason}`);
}

/** The backend as it goes into --json documents. */
export function backendJson(info: BackendInfo) {
  return { name: info.name, tfBackend: info.tfBackend, device: info.device, notTaken: info.reasonsOthersFailed };
}

/** Whether each backend could run here, with the install command for those that cannot. */
export function probeAllBackends() {
  return probeBackends(autoOrder, { importPackage: importBackendPackage });
}
