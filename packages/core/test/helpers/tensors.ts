/**
 * Bridges between tfjs tensors and the float64 reference (the comparison and leak checks themselves are
 * @vtok/test-utils' expectClose / expectNoLeak).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../../src/module';
import type { NDArray, RefRandom } from '../reference';

/**
 * Tolerances, relative to the scale (max |value|) of the reference tensor. float32 has a 6e-8 unit
 * roundoff; on the cpu backend the largest error measured over this suite is 3e-7 (forward and
 * gradients alike; run with VTOK_REPORT_ERRORS=1 to print them), so these leave a margin of ~60×
 * for other backends' exp/erf/accumulation order while still failing on a wrong scale, order or eps.
 * Gradients are compared with float64 central differences of the reference, never with tfjs itself.
 */
export const FORWARD_TOL = 2e-5;
export const GRAD_TOL = 1e-4;

export function toTensor(a: NDArray): tf.Tensor {
  return tf.tensor(Float32Array.from(a.data), a.shape, 'float32');
}

export async function toND(t: tf.Tensor): Promise<NDArray> {
  return { shape: [...t.shape], data: Float64Array.from(await t.data()) };
}

/** Gradients of Σ f(inputs)·cotangent with respect to `inputs`. */
export function gradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], cotangent: NDArray): tf.Tensor[] {
  const r = toTensor(cotangent);
  try {
    return tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
  } finally {
    r.dispose();
  }
}

/**
 * Gradients of Σ f()·cotangent with respect to every parameter of `module`, keyed by state-dict name,
 * plus those with respect to the extra `inputs` (in order).
 */
export function moduleGrads(
  module: Module,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  cotangent: NDArray,
  wrtInputs = true,
): { params: Record<string, tf.Tensor>; inputs: tf.Tensor[] } {
  const r = toTensor(cotangent);
  const inputVars = wrtInputs ? inputs.map((x) => tf.variable(x, true)) : [];
  try {
    const named = [...module.namedParameters()];
    const args = wrtInputs ? inputVars : inputs;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(...args), r)), [...named.map(([, v]) => v), ...inputVars]);
    value.dispose();
    const params: Record<string, tf.Tensor> = {};
    for (const [name, v] of named) params[name] = grads[v.name];
    return { params, inputs: inputVars.map((v) => grads[v.name]) };
  } finally {
    r.dispose();
    for (const v of inputVars) v.dispose();
  }
}

/** Loads random float32-representable values into every parameter and returns them as float64 arrays. */
export function randomizeParams(module: Module, rr: RefRandom, scale = 0.5): Record<string, NDArray> {
  const values: Record<string, NDArray> = {};
  const dict: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(module.stateDict())) {
    values[name] = rr.array([...v.shape], scale);
    dict[name] = toTensor(values[name]);
  }
  module.loadStateDict(dict);
  tf.dispose(Object.values(dict));
  return values;
}
