/**
 * Heap views that follow memory growth, for the threaded build.
 *
 * tfjs's BackendWasm reads and writes tensors through `module.HEAPU8`. Emscripten replaces that view
 * when the heap grows through its JS glue on the main thread, but memory grown anywhere else (by a
 * pthread, or by `sbrk` once another thread has grown the shared memory) leaves the main thread's
 * view covering only the old size: an offset past it throws "offset is out of bounds". With a shared
 * memory the old buffer object stays valid, just short, so the view is compared with the memory's
 * current buffer on every read and rebuilt when it differs (the same check emscripten's own
 * GROWABLE_HEAP_* helpers make).
 */
const views = {
  HEAP8: Int8Array,
  HEAPU8: Uint8Array,
  HEAP16: Int16Array,
  HEAPU16: Uint16Array,
  HEAP32: Int32Array,
  HEAPU32: Uint32Array,
  HEAPF32: Float32Array,
  HEAPF64: Float64Array,
} as const;

type ViewName = keyof typeof views;

/** Makes `module.HEAP8` … `module.HEAPF64` always cover the whole of `module.wasmMemory`. */
export function keepHeapViewsCurrent(module: { wasmMemory: WebAssembly.Memory } & Record<string, unknown>): void {
  const memory = module.wasmMemory;
  for (const name of Object.keys(views) as ViewName[]) {
    const View = views[name];
    let view = module[name] as InstanceType<typeof View> | undefined;
    Object.defineProperty(module, name, {
      configurable: true,
      enumerable: true,
      get() {
        const buffer = memory.buffer;
        if (view === undefined || view.buffer !== buffer) view = new View(buffer);
        return view;
      },
      // Emscripten assigns fresh views itself after growing on the main thread.
      set(value: InstanceType<typeof View>) {
        view = value;
      },
    });
  }
}
