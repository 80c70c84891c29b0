/** The host CPU in words, where the platform tells (Node); "CPU" in browsers. */
export function hostCpuDescription(): string {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const proc = (globalThis as { process?: { versions?: { node?: string }; arch?: string } }).process;
  const cores = nav?.hardwareConcurrency;
  const where = proc?.versions?.node ? `Node ${proc.versions.node} ${proc.arch ?? ''}`.trim() : 'browser';
  return `CPU${cores ? `, ${cores} logical cores` : ''}, ${where}`;
}

/** Reads an environment variable in Node; undefined in browsers. */
export function readEnv(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}
