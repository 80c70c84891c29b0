/**
 * The one pair of layout helpers between PyTorch state dicts and our channels-last modules, and the
 * one way to copy a weights file into a module. PyTorch keeps conv kernels [O, I, kh, kw] and
 * [O, I, kt, kh, kw]; our Conv2d / CausalConv3d keep HWIO / DHWIO. Every other tensor has the same
 * layout on both sides (linear weights are stored as PyTorch has them).
 */
import * as tf from '@tensorflow/tfjs-core';
import { StateDictError, type StateDictProblems } from '../errors';
import { CausalConv3d, Conv2d } from '../layers/conv';
import type { Module } from '../module';
import type { LazyTensorInput } from '../safetensors/write';
import type { WeightsFile } from './weights';

export type TorchLayout = 'same' | 'conv2d' | 'conv3d';

/** The layout of every state-dict entry of `model` that differs from PyTorch's (conv kernels). */
export function torchLayouts(model: Module): Map<string, TorchLayout> {
  const layouts = new Map<string, TorchLayout>();
  for (const [prefix, m] of model.namedModules()) {
    const name = prefix ? `${prefix}.weight` : 'weight';
    if (m instanceof Conv2d) layouts.set(name, 'conv2d');
    else if (m instanceof CausalConv3d) layouts.set(name, 'conv3d');
  }
  return layouts;
}

/** The PyTorch shape of a tensor of ours. */
export function torchShape(shape: readonly number[], layout: TorchLayout = 'same'): number[] {
  if (layout === 'conv2d') return [shape[3], shape[2], shape[0], shape[1]];
  if (layout === 'conv3d') return [shape[4], shape[3], shape[0], shape[1], shape[2]];
  return [...shape];
}

/** A PyTorch-layout tensor in our layout (a new tensor, or `t` itself for 'same'). */
export function fromTorchLayout(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  if (layout === 'conv2d') return tf.transpose(t, [2, 3, 1, 0]);
  if (layout === 'conv3d') return tf.transpose(t, [2, 3, 4, 1, 0]);
  return t;
}

/** One of our tensors in PyTorch's layout (a new tensor, or `t` itself for 'same'). */
export function toTorchLayout(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  if (layout === 'conv2d') return tf.transpose(t, [3, 2, 0, 1]);
  if (layout === 'conv3d') return tf.transpose(t, [4, 3, 0, 1, 2]);
  return t;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export interface LoadWeightsOptions {
  /** The model key of a file entry, or null to skip the entry on purpose. Default: the same name. */
  keyOf?: (fileName: string) => string | null;
  /** Describes a missing key in the error (e.g. which EMA copy was looked for). */
  describeMissing?: (key: string) => string;
}

/**
 * Copies a weights file (PyTorch names and layouts) into `model`. Every name and shape is checked
 * first and all problems are reported in one StateDictError before any data is read; then tensors
 * stream in one at a time, conv kernels turned into our layout. On error nothing has been assigned.
 */
export async function loadWeightsInto(model: Module, weights: WeightsFile, options: LoadWeightsOptions = {}): Promise<void> {
  const keyOf = options.keyOf ?? ((name: string) => name);
  const layouts = torchLayouts(model);
  const targets = model.stateDict();
  const problems: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
  const seen = new Set<string>();
  for (const entry of weights.entries) {
    const key = keyOf(entry.name);
    if (key === null) continue;
    const target = Object.prototype.hasOwnProperty.call(targets, key) ? targets[key] : undefined;
    if (!target) {
      problems.unexpected.push(entry.name);
      continue;
    }
    const expected = torchShape(target.shape, layouts.get(key));
    if (!sameShape(expected, entry.shape)) problems.mismatched.push({ name: entry.name, expected, got: [...entry.shape] });
    seen.add(key);
  }
  for (const key of Object.keys(targets)) if (!seen.has(key)) problems.missing.push(options.describeMissing?.(key) ?? key);
  if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) throw new StateDictError(problems, weights.where);

  await weights.forEach((entry, raw) => {
    const key = keyOf(entry.name);
    if (key === null) return;
    const target = targets[key] as tf.Variable;
    tf.tidy(() => {
      let t: tf.Tensor = tf.tensor(raw.data, raw.shape, raw.dtype);
      if (t.dtype !== target.dtype) t = tf.cast(t, target.dtype);
      target.assign(fromTorchLayout(t, layouts.get(key) ?? 'same'));
    });
  });
}

/**
 * The model's state dict as writable entries in PyTorch's names and layouts. Conv kernels are
 * transposed one at a time, when written, so saving never holds a second copy of the model.
 */
export function torchStateDictEntries(model: Module): Record<string, LazyTensorInput> {
  const layouts = torchLayouts(model);
  const entries: Record<string, LazyTensorInput> = {};
  for (const [name, v] of Object.entries(model.stateDict())) {
    const layout = layouts.get(name) ?? 'same';
    entries[name] = {
      dtype: v.dtype as 'float32' | 'int32',
      shape: torchShape(v.shape, layout),
      read: async () => {
        if (layout === 'same') return (await v.data()) as Float32Array | Int32Array;
        const t = toTorchLayout(v, layout);
        try {
          return (await t.data()) as Float32Array;
        } finally {
          t.dispose();
        }
      },
    };
  }
  return entries;
}
