import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Backend } from '../contracts';
import { BackendUnavailableError } from '../errors';
import { hostCpuDescription } from './host';

/** The pure-JavaScript backend: always there, slow. Use it as the last resort and as a reference. */
export function cpu(): Backend {
  return {
    specificationVersion: 'v1',
    name: 'cpu',
    async isAvailable() {
      return tf.findBackendFactory('cpu') ? { ok: true } : { ok: false, reason: 'the tfjs cpu backend is not registered' };
    },
    async activate() {
      if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError('cpu', 'tfjs could not initialise its cpu backend');
      await tf.ready();
      // tfjs's cpu backend tells Node users, on first use, to install tfjs-node; vtok's CUDA backend
      // is the supported way to that, and the notice would only be noise in every CLI run.
      const backend = tf.backend() as { firstUse?: boolean };
      if ('firstUse' in backend) backend.firstUse = false;
      return { name: 'cpu', tfBackend: 'cpu', device: `${hostCpuDescription()} (pure JavaScript kernels)`, features: [] };
    },
  };
}
