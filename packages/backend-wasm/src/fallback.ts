/**
 * Kernels the tfjs wasm backend lacks, filled by running the cpu backend's kernel on the wasm tensors'
 * data. Wasm memory is CPU memory, so the copy is cheap; the kernel itself runs at pure-JavaScript speed.
 *
 * The list is computed at run time (cpu kernels minus wasm kernels), so a tfjs upgrade that adds a
 * kernel to wasm stops using the fallback for it without a change here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** Kernels that cannot be filled this way, and why. */
export const unfillableWasmKernels: Readonly<Record<string, string>> = {
  Complex: 'the wasm backend cannot hold complex64 tensors',
  ComplexAbs: 'the wasm backend cannot hold complex64 tensors',
  Real: 'the wasm backend cannot hold complex64 tensors',
  Imag: 'the wasm backend cannot hold complex64 tensors',
  FFT: 'the wasm backend cannot hold complex64 tensors',
  IFFT: 'the wasm backend cannot hold complex64 tensors',
  Draw: 'draws onto a canvas; not a compute kernel',
};

/**
 * Kernels tfjs-wasm 4.22 has but computes wrongly, to be replaced by the cpu kernel; found by the
 * adjoint identities <dy, f(x)> = <f'(dy), x> (see test/fallback.test.ts). Empty today: the ones found
 * (Conv3DBackpropInputV2, Conv3DBackpropFilterV2, MaxPoolGrad) have wasm kernels of this package
 * (`registerWasmTrainingKernels`). Kept for a tfjs upgrade that breaks another.
 */
export const brokenWasmKernels: Readonly<Record<string, string>> = {};

export interface WasmKernelFill {
  /** Kernels wasm lacks, registered on 'wasm' to run the cpu kernel (pure JavaScript). */
  readonly filled: readonly string[];
  /** Kernels wasm gets wrong (`brokenWasmKernels`), replaced by the cpu kernel. */
  readonly replaced: readonly string[];
  /** Kernels missing on wasm that are not filled, with the reason. */
  readonly unfilled: readonly { name: string; reason: string }[];
}

const filled = new Set<string>();
const replaced = new Set<string>();
let privateCpu: MathBackendCPU | undefined;
/** Calls of each cpu-backed kernel since the last reset, so a run can list what left wasm. */
let calls: Record<string, number> = {};

type Backendish = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.BackendValues): tf.TensorInfo;
};
type CpuData = { data: { get(dataId: object): { values: tf.BackendValues } } };

function cpuBackend(): MathBackendCPU {
  if (!privateCpu) {
    privateCpu = new MathBackendCPU();
    // The private instance is an implementation detail: skip its "install tfjs-node" notice.
    (privateCpu as unknown as { firstUse: boolean }).firstUse = false;
  }
  return privateCpu;
}

/** A kernel of this package took `name` over on 'wasm': it no longer runs on the cpu fallback. */
export function forgetCpuFallback(name: string): void {
  filled.delete(name);
  replaced.delete(name);
}

/** Kernels the cpu backend has and the wasm backend itself lacks (those filled here included), sorted. */
export function missingWasmKernels(): string[] {
  const onWasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  return tf
    .getKernelsForBackend('cpu')
    .map((k) => k.kernelName)
    .filter((name) => !onWasm.has(name) || filled.has(name))
    .sort();
}

/**
 * Registers a cpu-backed kernel on 'wasm' for every kernel wasm lacks (except those in
 * `unfillableWasmKernels`) and for those it gets wrong (`brokenWasmKernels`). Idempotent. Needs
 * `@tensorflow/tfjs-backend-wasm` to be imported first, so that the kernels it has are known.
 */
export function fillMissingWasmKernels(): WasmKernelFill {
  for (const name of Object.keys(brokenWasmKernels)) {
    if (replaced.has(name)) continue;
    const cpuKernel = tf.getKernel(name, 'cpu');
    if (!cpuKernel || !tf.getKernel(name, 'wasm')) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: viaCpu(name, cpuKernel.kernelFunc) });
    replaced.add(name);
  }
  const unfilled: { name: string; reason: string }[] = [];
  for (const name of missingWasmKernels()) {
    const reason = unfillableWasmKernels[name];
    if (reason) {
      unfilled.push({ name, reason });
      continue;
    }
    if (filled.has(name)) continue;
    const cpuKernel = tf.getKernel(name, 'cpu');
    if (!cpuKernel) continue;
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: viaCpu(name, cpuKernel.kernelFunc) });
    filled.add(name);
  }
  return { filled: [...filled].sort(), replaced: [...replaced].sort(), unfilled };
}

/** The kernels on 'wasm' that run the cpu kernel (filled and replaced), so far. */
export function cpuFallbackKernels(): string[] {
  return [...filled, ...replaced].sort();
}

/**
 * How many times each kernel ran on the cpu fallback since the process started or the last
 * `resetCpuFallbackCalls()` (a copy; kernels that did not run are absent).
 */
export function cpuFallbackCalls(): Record<string, number> {
  return { ...calls };
}

/** Sets every count of `cpuFallbackCalls()` back to zero. */
export function resetCpuFallbackCalls(): void {
  calls = {};
}

/** Tensors alive in the private cpu backend the fallbacks use; 0 between kernel calls (for leak tests). */
export function cpuFallbackLiveTensors(): number {
  return privateCpu ? privateCpu.numDataIds() : 0;
}

function viaCpu(kernelName: string, cpuKernel: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    calls[kernelName] = (calls[kernelName] ?? 0) + 1;
    const wasmBackend = backend as Backendish;
    const cpu = cpuBackend();
    const made: tf.TensorInfo[] = [];
    try {
      const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
        if (info.dtype === 'complex64') throw new Error(`${kernelName} on wasm: complex64 inputs are not supported`);
        const copy = cpu.makeTensorInfo(info.shape, info.dtype, wasmBackend.readSync(info.dataId));
        made.push(copy);
        return copy;
      };
      // Einsum and friends take their inputs as an array, the ragged kernels some inputs as arrays:
      // keep the containers' shape.
      const cpuInputs = (Array.isArray(inputs) ? [] : {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(inputs as Record<string, tf.TensorInfo | tf.TensorInfo[] | undefined>)) {
        if (value == null) continue;
        cpuInputs[key] = Array.isArray(value) ? value.map(toCpu) : toCpu(value);
      }
      const out = cpuKernel({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu, attrs });
      const outs = Array.isArray(out) ? out : [out];
      made.push(...outs);
      const results = outs.map((o) => {
        if (o.dtype === 'complex64') throw new Error(`${kernelName} on wasm: complex64 outputs are not supported`);
        const values = o.dtype === 'string' ? (cpu as unknown as CpuData).data.get(o.dataId).values : cpu.readSync(o.dataId);
        return wasmBackend.makeOutput([...o.shape], o.dtype, undefined, values);
      });
      return Array.isArray(out) ? results : results[0];
    } finally {
      for (const t of made) cpu.disposeData(t.dataId, true);
    }
  };
}
