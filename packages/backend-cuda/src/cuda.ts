import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, type Backend, type BackendAvailability, type BackendInfo } from '@vtok/core';

/** The optional peer dependency that brings CUDA; its tfjs backend is named 'tensorflow'. */
export const tfjsNodeGpuPackage = '@tensorflow/tfjs-node-gpu';
export const cudaInstall = `npm install ${tfjsNodeGpuPackage}@4.22.0`;
/** What @tensorflow/tfjs-node-gpu 4.22.0 needs on the machine. */
export const cudaRequirements =
  'an NVIDIA GPU with driver >= 450, CUDA 11.2 (libcudart.so.11.0) and cuDNN 8.1 (libcudnn.so.8); it runs libtensorflow 2.9.1, ' +
  'which its install script downloads (pnpm 10 runs that script only if the package is listed in onlyBuiltDependencies)';

export interface CudaOptions {
  /** Loads a package by name (default: dynamic import). Tests inject a fake tfjs-node-gpu. */
  importModule?: (name: string) => Promise<any>;
  /** The GPU in words; default: `nvidia-smi`'s name and driver when it is on PATH. */
  describeGpu?: () => Promise<string | undefined>;
}

export interface CudaBackend extends Backend {
  readonly name: 'cuda';
  readonly options: CudaOptions;
}

/** What tfjs-node's NodeJSKernelBackend says about itself. */
interface NodeBackendLike {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

const defaultImport = (name: string): Promise<any> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Explains why loading tfjs-node-gpu failed, from its error. */
export function explainLoadFailure(error: unknown): Extract<BackendAvailability, { ok: false }> {
  const message = errorText(error);
  const code = (error as { code?: string } | null)?.code;
  const notInstalled =
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(message)) &&
    message.includes(tfjsNodeGpuPackage) &&
    !/tfjs_binding/.test(message);
  if (notInstalled) {
    return { ok: false, reason: `${tfjsNodeGpuPackage} is not installed; it needs ${cudaRequirements}`, install: cudaInstall };
  }
  if (/tfjs_binding|native addon/i.test(message)) {
    return {
      ok: false,
      reason:
        `${tfjsNodeGpuPackage} is installed but its native addon is missing: its install script did not run ` +
        `(with pnpm 10, add "${tfjsNodeGpuPackage}" to onlyBuiltDependencies and reinstall) or could not download libtensorflow 2.9.1 (${message})`,
      install: cudaInstall,
    };
  }
  if (/lib(cudart|cudnn|cublas|cufft|curand|cusolver|cusparse|tensorflow)[\w.]*\.so/.test(message)) {
    return { ok: false, reason: `${tfjsNodeGpuPackage} could not load a library it needs (${message}); it needs ${cudaRequirements}` };
  }
  return { ok: false, reason: `${tfjsNodeGpuPackage} could not be loaded: ${message}` };
}

async function nvidiaSmi(): Promise<string | undefined> {
  if (typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== 'string') return undefined;
  try {
    const { execFile } = await defaultImport('node:child_process');
    return await new Promise<string | undefined>((resolve) => {
      execFile('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { timeout: 5000 }, (err: unknown, stdout: string) => {
        if (err) return resolve(undefined);
        const lines = stdout.trim().split('\n').filter(Boolean);
        resolve(lines.length ? lines.map((l) => l.split(',').map((s) => s.trim())).map(([name, mem, driver]) => `${name} (${mem}, driver ${driver})`).join('; ') : undefined);
      });
    });
  } catch {
    return undefined;
  }
}

/**
 * CUDA through @tensorflow/tfjs-node-gpu (an optional peer dependency, loaded only when asked for).
 * Says why it cannot run: package missing, native addon missing, CUDA libraries missing, or loaded
 * but running on the CPU because TensorFlow found no usable GPU.
 */
export function cuda(options: CudaOptions = {}): CudaBackend {
  const importModule = options.importModule ?? defaultImport;
  let loaded: Promise<BackendAvailability> | undefined;

  function load(): Promise<BackendAvailability> {
    loaded ??= (async (): Promise<BackendAvailability> => {
      // Importing tfjs-node(-gpu) switches tfjs to its backend: put the current one back after.
      const previous = tf.engine().backendName as string | null | undefined;
      try {
        await importModule(tfjsNodeGpuPackage);
      } catch (error) {
        return explainLoadFailure(error);
      } finally {
        if (previous && previous !== 'tensorflow' && tf.engine().backendName !== previous) await tf.setBackend(previous);
      }
      const backend = tf.findBackend('tensorflow') as (tf.KernelBackend & NodeBackendLike) | null;
      if (!backend) {
        return { ok: false, reason: `${tfjsNodeGpuPackage} loaded but registered no "tensorflow" backend (two different @tensorflow/tfjs-core versions installed?)` };
      }
      if (backend.isGPUPackage === false) {
        return { ok: false, reason: `the loaded "tensorflow" backend is the CPU build (@tensorflow/tfjs-node), not ${tfjsNodeGpuPackage}`, install: cudaInstall };
      }
      if (backend.isUsingGpuDevice !== true) {
        return {
          ok: false,
          reason:
            `${tfjsNodeGpuPackage} loaded, but TensorFlow found no usable GPU and would run on the CPU: ` +
            `check nvidia-smi, and that CUDA 11.2 (libcudart.so.11.0) and cuDNN 8.1 (libcudnn.so.8) are on LD_LIBRARY_PATH ` +
            `(TensorFlow's log names the library it could not load)`,
        };
      }
      return { ok: true };
    })();
    return loaded;
  }

  return {
    specificationVersion: 'v1',
    name: 'cuda',
    options,
    isAvailable: load,
    async activate(): Promise<Omit<BackendInfo, 'reasonsOthersFailed'>> {
      const a = await load();
      if (!a.ok) throw new BackendUnavailableError('cuda', a.reason, a.install);
      if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError('cuda', 'tfjs could not switch to the "tensorflow" backend of tfjs-node-gpu');
      await tf.ready();
      const gpu = await (options.describeGpu ?? nvidiaSmi)();
      return {
        name: 'cuda',
        tfBackend: 'tensorflow',
        device: `${gpu ?? 'NVIDIA GPU'} through CUDA (libtensorflow 2.9.1, @tensorflow/tfjs-node-gpu)`,
        features: ['cuda', 'libtensorflow-2.9.1'],
      };
    },
  };
}
