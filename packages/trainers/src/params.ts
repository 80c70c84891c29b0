/**
 * What the optimiser, the clipping and the EMA work on: named variables (a Module's parameters under their
 * state-dict names) and gradients keyed by variable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, Module, ShapeError, ValueError, formatShape } from '@vtok/core';

/** Parameters under their state-dict names (`blocks.0.attn.in_proj_weight`). */
export type NamedVariables = readonly (readonly [string, tf.Variable])[];

/**
 * Gradients by variable: a record keyed by `variable.name` (what `tf.variableGrads` returns) or by the
 * parameter's state-dict name, or a Map from the variable itself.
 */
export type Gradients = Readonly<Record<string, tf.Tensor>> | ReadonlyMap<tf.Variable, tf.Tensor>;

/** The trainable parameters of a module, or the given named variables as they are. */
export function trainableNamed(source: Module | NamedVariables, who: string): [string, tf.Variable][] {
  if (source instanceof Module) return [...source.namedParameters()].filter(([, v]) => v.trainable);
  if (!Array.isArray(source)) throw new ValueError(`${who}: expected a Module or [name, tf.Variable] pairs, got ${typeof source}`);
  const seen = new Set<string>();
  return source.map(([name, v], i) => {
    if (typeof name !== 'string' || !(v instanceof tf.Variable)) {
      throw new ValueError(`${who}: entry ${i} must be [name, tf.Variable], got [${typeof name}, ${v?.constructor?.name ?? typeof v}]`);
    }
    if (seen.has(name)) throw new ValueError(`${who}: the name "${name}" is given twice`);
    seen.add(name);
    return [name, v] as [string, tf.Variable];
  });
}

/**
 * The gradient of each named variable (undefined where none was given), after checking that every key
 * names one of them and every gradient is a live float32 tensor of the variable's shape.
 */
export function gradientsFor(named: readonly (readonly [string, tf.Variable])[], grads: Gradients, who: string): (tf.Tensor | undefined)[] {
  if (grads === null || typeof grads !== 'object') throw new ValueError(`${who}: gradients must be a record or a Map, got ${String(grads)}`);
  let out: (tf.Tensor | undefined)[];
  if (grads instanceof Map) {
    const known = new Set(named.map(([, v]) => v));
    for (const v of grads.keys()) {
      if (!known.has(v)) throw new ValueError(`${who}: a gradient is given for the variable "${(v as tf.Variable)?.name}", which is not one of the ${named.length} parameters`);
    }
    out = named.map(([, v]) => grads.get(v));
  } else {
    const record = grads as Readonly<Record<string, tf.Tensor>>;
    const byKey = new Map<string, number>();
    named.forEach(([name, v], i) => {
      byKey.set(v.name, i);
      byKey.set(name, i);
    });
    out = new Array(named.length).fill(undefined);
    for (const [key, g] of Object.entries(record)) {
      const i = byKey.get(key);
      if (i === undefined) {
        const some = named.slice(0, 5).map(([n]) => `"${n}"`).join(', ');
        throw new ValueError(`${who}: a gradient is given for "${key}", which names none of the parameters (by state-dict name or variable name; e.g. ${some})`);
      }
      if (out[i] !== undefined) throw new ValueError(`${who}: two gradients are given for the parameter "${named[i][0]}"`);
      out[i] = g;
    }
  }
  out.forEach((g, i) => {
    if (g === undefined) return;
    const [name, v] = named[i];
    if (!(g instanceof tf.Tensor)) throw new ValueError(`${who}: the gradient of "${name}" must be a tf.Tensor, got ${typeof g}`);
    if (g.isDisposed) throw new ValueError(`${who}: the gradient of "${name}" is disposed`);
    if (g.dtype !== 'float32') throw new DTypeError(`${who}: the gradient of "${name}" must be float32, got ${g.dtype}`);
    if (!sameShape(g.shape, v.shape)) {
      throw new ShapeError(`${who}: the gradient of "${name}" must have the parameter's shape ${formatShape(v.shape)}, got ${formatShape(g.shape)}`);
    }
  });
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
