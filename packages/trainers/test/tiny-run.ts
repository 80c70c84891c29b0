// A small two-phase training run shared by the trainer tests and the child process the kill test spawns:
// a regressor trained on seeded batches with noise drawn from ctx.random, an "adversary" phase reading
// what the first phase kept, EMA, accumulation, and a piece of extra JSON state.
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@vtok/core';
import { prng } from '@vtok/test-utils';
import { Trainer, type Stateful, type TrainData } from '../src';

export class Regressor extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(inputs = 4, outputs = 1, seed = 3, padding = 0) {
    super();
    // An optional large parameter makes checkpoints big enough that a kill lands inside a write.
    if (padding) this.addParameter('padding', tf.zeros([padding]));
    this.weight = this.addParameter('weight', tf.tensor2d(Float32Array.from(prng(seed).normals(inputs * outputs, 0.1)), [inputs, outputs]));
    this.bias = this.addParameter('bias', tf.zeros([outputs]));
  }
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight), this.bias);
  }
}

export type RegressionBatch = { x: tf.Tensor2D; y: tf.Tensor2D; position: number };

const TRUE_W = [0.5, -1.5, 2, 0.25];

/** Batch i of a seeded regression stream; `position` is where to continue after it. */
export function regressionBatch(i: number, size = 16): RegressionBatch {
  const xs = Float32Array.from(prng(1000 + i).normals(size * 4));
  const ys = Float32Array.from({ length: size }, (_, r) => TRUE_W.reduce((s, w, j) => s + w * xs[r * 4 + j], 0.3));
  return { x: tf.tensor2d(xs, [size, 4]), y: tf.tensor2d(ys, [size, 1]), position: i + 1 };
}

export const regressionData: TrainData<RegressionBatch> = (from) =>
  (function* () {
    for (let i = (from as number | undefined) ?? 0; ; i++) yield regressionBatch(i);
  })();

/** JSON state the run checkpoints besides tensors (a running mean of the loss, like LeCam's EMAs). */
export class RunningMean implements Stateful {
  value = 0;
  count = 0;
  add(v: number) {
    this.count += 1;
    this.value += (v - this.value) / this.count;
  }
  exportState() {
    return { value: this.value, count: this.count };
  }
  importState(state: unknown) {
    const s = state as { value: number; count: number };
    this.value = s.value;
    this.count = s.count;
  }
}

/** The run: model + adversary, accumulation 2, EMA on the model, noise from ctx.random. */
export function tinyRun(options: { extraParams?: number } = {}) {
  const model = new Regressor(4, 1, 3, options.extraParams);
  const adversary = new Regressor(1, 1, 7);
  const mean = new RunningMean();
  const trainer = new Trainer<RegressionBatch>({
    seed: 11,
    accumulate: 2,
    state: { mean },
    phases: [
      {
        name: 'model',
        module: model,
        optimizer: { lr: 0.05, weightDecay: 1e-4 },
        clipGradNorm: 5,
        ema: { decay: 0.9 },
        loss: (b, ctx) => {
          const noise = tf.tensor2d(Float32Array.from({ length: b.x.shape[0] }, () => 0.01 * ctx.random.nextNormal()), [b.x.shape[0], 1]);
          const pred = model.forward(b.x);
          ctx.keep('prediction', pred);
          const fit = tf.losses.meanSquaredError(tf.add(b.y, noise), pred) as tf.Scalar;
          mean.add(b.position);
          const padding = model.stateDict().padding;
          return { loss: padding ? tf.add(fit, tf.mul(tf.sum(tf.square(padding)), 1e-3)) : fit, logs: { batch: b.position } };
        },
      },
      {
        name: 'adversary',
        module: adversary,
        startStep: 2,
        optimizer: { lr: 0.01 },
        schedule: (s) => 0.01 / (1 + s),
        loss: (b, ctx) => tf.losses.meanSquaredError(b.y, adversary.forward(ctx.kept('prediction') as tf.Tensor2D)) as tf.Scalar,
      },
    ],
  });
  return {
    model,
    adversary,
    mean,
    trainer,
    dispose() {
      trainer.dispose();
      model.dispose();
      adversary.dispose();
    },
  };
}

/** Every tensor of the run's state as float32 arrays (weights, optimiser moments, EMA), for exact comparisons. */
export async function runState(run: ReturnType<typeof tinyRun>): Promise<Record<string, Float32Array | Int32Array>> {
  const content = await run.trainer.checkpointContent();
  const out: Record<string, Float32Array | Int32Array> = {};
  for (const [k, t] of Object.entries(content.tensors)) out[k] = (await t.data()) as Float32Array | Int32Array;
  tf.dispose(Object.values(content.tensors));
  return out;
}
