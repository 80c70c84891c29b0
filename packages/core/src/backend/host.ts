/** The host CPU in words, where the platform tells (Node); "CPU" in browsers. */
export function hostCpuDescription(): string {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const proc = (globalThis as { process?: { versions?: { node?: string }; arch?: string } }).process;
  // Node 20 has no navigator; its os module (reached without a static import, for browser bundles) does.
  const os = (proc as { getBuiltinModule?: (id: string) => { availableParallelism?: () => number; cpus?: () => { model: string }[] } } | undefined)?.getBuiltinModule?.('node:os');
  const cores = nav?.hardwareConcurrency ?? os?.availableParallelism?.();
  const model = os?.cpus?.()[0]?.model?.trim();
  const where = proc?.versions?.node ? `Node ${proc.versions.node} ${proc.arch ?? ''}`.trim() : 'browser';
  return `${model || 'CPU'}${cores ? `, ${cores} logical cores` : ''}, ${where}`;
}

/** Reads an environment variable in Node; undefined in browsers. */
export function readEnv(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}
