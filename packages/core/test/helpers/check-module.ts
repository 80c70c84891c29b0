/**
 * The module counterpart of checkOp: forward against the reference with the module's own
 * (randomised) parameters, gradients with respect to every parameter and input against float64
 * central differences, and no leaked tensors around forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { Module } from '../../src/module';
import { type NDArray, type RefRandom, dot, numericGrad } from '../reference';
import { expectClose, expectNoLeak } from '@vtok/test-utils';
import { FORWARD_TOL, GRAD_TOL, moduleGrads, randomizeParams, toTensor } from './tensors';

export interface ModuleCheck<M extends Module> {
  label: string;
  module: M;
  forward: (m: M, ...xs: tf.Tensor[]) => tf.Tensor;
  ref: (params: Record<string, NDArray>, ...xs: NDArray[]) => NDArray;
  inputs: NDArray[];
  /** Scale of the random parameters loaded before the check. */
  paramScale?: number;
  /** Check gradients with respect to the inputs too (default true). */
  inputGrads?: boolean;
  /**
   * Parameters whose gradient is zero in exact arithmetic (e.g. an attention key bias: softmax ignores a
   * shift shared by a query's scores); theirs is checked to be float32 noise instead of against the
   * reference's relative scale.
   */
  zeroGradParams?: string[];
}

export async function checkModule<M extends Module>(rr: RefRandom, c: ModuleCheck<M>): Promise<void> {
  const params = randomizeParams(c.module, rr, c.paramScale ?? 0.5);
  const xs = c.inputs.map(toTensor);
  try {
    const expected = c.ref(params, ...c.inputs);
    const y = c.forward(c.module, ...xs);
    await expectClose(y, expected, FORWARD_TOL, `${c.label} forward`);
    y.dispose();
    await expectNoLeak(() => c.forward(c.module, ...xs), c.label);

    const cot = rr.array(expected.shape);
    const before = tf.memory().numTensors;
    const grads = moduleGrads(c.module, (...vs) => c.forward(c.module, ...vs), xs, cot, c.inputGrads ?? true);
    const loss = () => dot(c.ref(params, ...c.inputs), cot);
    for (const [name, g] of Object.entries(grads.params)) {
      if (c.zeroGradParams?.includes(name)) {
        const worst = Math.max(...Array.from(await g.data(), Math.abs));
        expect(worst, `${c.label} gradient wrt ${name} (zero in exact arithmetic)`).toBeLessThan(1e-5);
        continue;
      }
      await expectClose(g, numericGrad(loss, params[name]), GRAD_TOL, `${c.label} gradient wrt ${name}`);
    }
    if (c.inputGrads ?? true) {
      for (let i = 0; i < xs.length; i++) {
        await expectClose(grads.inputs[i], numericGrad(loss, c.inputs[i]), GRAD_TOL, `${c.label} gradient wrt input ${i}`);
      }
    }
    tf.dispose([...Object.values(grads.params), ...grads.inputs]);
    expect(tf.memory().numTensors, `${c.label}: live tensors after the gradient`).toBe(before);
  } finally {
    tf.dispose(xs);
  }
}

/** Creating and disposing a module leaves no tensor behind. */
export function expectCreateDisposeClean(create: () => Module, label: string): void {
  const before = tf.memory().numTensors;
  const m = create();
  expect(tf.memory().numTensors, `${label}: a created module holds tensors`).toBeGreaterThan(before - 1);
  m.dispose();
  expect(tf.memory().numTensors, `${label}: live tensors after dispose`).toBe(before);
}
