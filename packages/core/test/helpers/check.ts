/**
 * One call checks an op end to end: forward against the float64 reference, gradients of a random
 * linear functional against float64 central differences of the reference, and no leaked tensors
 * around the forward call and around the gradient computation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { type NDArray, type RefRandom, dot, numericGrad } from '../reference';
import { expectClose, expectNoLeak } from '@vtok/test-utils';
import { FORWARD_TOL, GRAD_TOL, gradsOf, toTensor } from './tensors';

export interface OpCheck {
  label: string;
  /** The op under test, over tensors made from `inputs`. */
  op: (...xs: tf.Tensor[]) => tf.Tensor;
  /** The reference, over the same inputs in float64. */
  ref: (...xs: NDArray[]) => NDArray;
  inputs: NDArray[];
  /** Indices of the inputs whose gradient is checked; default all; [] skips the gradient check. */
  wrt?: number[];
  forwardTol?: number;
  gradTol?: number;
}

export async function checkOp(rr: RefRandom, c: OpCheck): Promise<void> {
  const xs = c.inputs.map(toTensor);
  try {
    const expected = c.ref(...c.inputs);
    const y = c.op(...xs);
    await expectClose(y, expected, c.forwardTol ?? FORWARD_TOL, `${c.label} forward`);
    y.dispose();
    await expectNoLeak(() => c.op(...xs), c.label);
    const wrt = c.wrt ?? c.inputs.map((_, i) => i);
    if (wrt.length === 0) return;
    const cot = rr.array(expected.shape);
    const before = tf.memory().numTensors;
    const grads = gradsOf(c.op, xs, cot);
    for (const i of wrt) {
      const numeric = numericGrad(() => dot(c.ref(...c.inputs), cot), c.inputs[i]);
      await expectClose(grads[i], numeric, c.gradTol ?? GRAD_TOL, `${c.label} gradient wrt input ${i}`);
    }
    tf.dispose(grads);
    expect(tf.memory().numTensors, `${c.label}: live tensors after the gradient`).toBe(before);
  } finally {
    tf.dispose(xs);
  }
}
