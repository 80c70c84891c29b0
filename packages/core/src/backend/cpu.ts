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
      return { name: 'cpu', tfBackend: 'cpu', device: `${hostCpuDescription()} (pure JavaScript kernels)`, features: [] };
    },
  };
}
