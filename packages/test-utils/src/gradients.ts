/** Gradient checks for trainable models: every gradient finite, and each named part actually reached. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** What the check needs of a model: its parameters by state-dict name (a @vtok/core Module has this). */
export interface NamedParameters {
  namedParameters(): Iterable<[string, tf.Variable]>;
}

/**
 * Takes the gradients of `loss` w.r.t. the model's trainable parameters (tf.variableGrads), checks that
 * every one is finite and that the parameters under each of `prefixes` (state-dict names, e.g. 'encoder.')
 * get a non-zero gradient, frees them, and returns the squared gradient norm per prefix.
 */
export async function expectGradientsReach(model: NamedParameters, loss: () => tf.Scalar, prefixes: readonly string[]): Promise<Record<string, number>> {
  const named = [...model.namedParameters()].filter(([, v]) => v.trainable);
  const nameOf = new Map(named.map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(loss, named.map(([, v]) => v));
  try {
    expect(Number.isFinite((await value.data())[0]), 'loss is finite').toBe(true);
    const squares: Record<string, number> = Object.fromEntries(prefixes.map((p) => [p, 0]));
    for (const [variable, grad] of Object.entries(grads)) {
      const name = nameOf.get(variable) ?? variable;
      const stats = tf.tidy(() => tf.stack([tf.sum(tf.square(grad)), tf.sum(tf.cast(tf.logicalNot(tf.isFinite(grad)), 'float32'))]));
      const [sum, nonFinite] = await stats.data();
      stats.dispose();
      expect(nonFinite, `non-finite gradient values of ${name}`).toBe(0);
      for (const p of prefixes) if (name.startsWith(p)) squares[p] += sum;
    }
    for (const p of prefixes) expect(squares[p], `squared gradient norm under "${p}"`).toBeGreaterThan(0);
    return squares;
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}
