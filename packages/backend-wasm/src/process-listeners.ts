/**
 * Emscripten's Node glue (in every tfjs-wasm build) adds two process-wide listeners when a module is
 * created: `uncaughtException` rethrowing every exception that is not its own exit, and
 * `unhandledRejection` rethrowing every rejection. They take those decisions away from the
 * application (a `--unhandled-rejections=warn` process then crashes anyway, and an uncaught exception
 * ends with exit code 7 instead of 1). This removes them again, recognised by their exact source, so
 * that no listener of anyone else is touched.
 */
type Listener = (...args: unknown[]) => void;

const events = ['uncaughtException', 'unhandledRejection'] as const;
const emscriptenSources = new Set(['function(ex){if(!(exinstanceofExitStatus)){throwex}}', 'function(reason){throwreason}']);

const normalise = (f: Listener) => Function.prototype.toString.call(f).replace(/[\s;]+/g, '');

type Proc = { listeners(event: string): Listener[]; removeListener(event: string, l: Listener): unknown };
const proc = (): Proc | undefined => {
  const p = (globalThis as { process?: Partial<Proc> }).process;
  return typeof p?.listeners === 'function' && typeof p.removeListener === 'function' ? (p as Proc) : undefined;
};

/** The listeners present now, to compare with after a module is created. */
export function processListenersNow(): Set<Listener> {
  const p = proc();
  return new Set(p ? events.flatMap((e) => p.listeners(e)) : []);
}

/** Removes emscripten's listeners added since `before`; returns how many were removed. */
export function removeEmscriptenProcessListeners(before: Set<Listener>): number {
  const p = proc();
  if (!p) return 0;
  let removed = 0;
  for (const event of events) {
    for (const listener of p.listeners(event)) {
      if (before.has(listener) || !emscriptenSources.has(normalise(listener))) continue;
      p.removeListener(event, listener);
      removed++;
    }
  }
  return removed;
}
