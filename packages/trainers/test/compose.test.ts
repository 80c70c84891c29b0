// The pieces together, as a training loop will use them: variableGrads → accumulate → clip → AdamW at the
// scheduled lr → EMA. A tiny least-squares fit must converge, and nothing may be left allocated.
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@vtok/core';
import { disposeAll, normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { AdamW, EMA, GradientAccumulator, clipGradNorm, cosineWithWarmup } from '../src';

class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor() {
    super();
    this.weight = this.addParameter('weight', tf.zeros([4, 1]));
    this.bias = this.addParameter('bias', tf.zeros([1]));
  }
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight), this.bias);
  }
}

describe('AdamW + schedule + clipping + accumulation + EMA', () => {
  it('fit y = x·w + b: the loss falls by more than 100× in 150 steps and the EMA weights are close to the target', async () => {
    const before = tf.memory().numTensors;
    const trueW = [0.5, -1.5, 2, 0.25];
    const model = new Linear();
    const opt = new AdamW(model, { weightDecay: 0 });
    const ema = new EMA(model, { decay: 0.9 });
    const acc = new GradientAccumulator();
    const schedule = cosineWithWarmup({ baseLr: 0.1, endLr: 0.001, warmupSteps: 10, totalSteps: 150 });
    const batch = (seed: number) => {
      const xs = Float32Array.from(normals(32 * 4, seed));
      const ys = Float32Array.from({ length: 32 }, (_, i) => trueW.reduce((s, w, j) => s + w * xs[i * 4 + j], 0.3));
      return { x: tf.tensor2d(xs, [32, 4]), y: tf.tensor2d(ys, [32, 1]) };
    };
    const lossOf = (b: { x: tf.Tensor2D; y: tf.Tensor2D }) => tf.tidy(() => tf.losses.meanSquaredError(b.y, model.forward(b.x)) as tf.Scalar);
    const evalBatch = batch(999);
    const firstTensor = lossOf(evalBatch);
    const first = (await firstTensor.data())[0];
    for (let step = 0; step < 150; step++) {
      for (let micro = 0; micro < 2; micro++) {
        const b = batch(step * 2 + micro);
        const { value, grads } = tf.variableGrads(() => lossOf(b), model.trainableVariables());
        acc.add(grads);
        disposeAll([b, value, grads]);
      }
      const mean = acc.mean();
      acc.reset();
      const clipped = clipGradNorm(mean, 1);
      opt.step(clipped.grads, { lr: schedule(step) });
      ema.update();
      disposeAll([mean, clipped]);
    }
    const lossTensor = lossOf(evalBatch);
    const last = (await lossTensor.data())[0];
    expect(last).toBeLessThan(first / 100);
    ema.apply();
    const w = Array.from(await model.weight.data());
    ema.restore();
    w.forEach((v, i) => expect(Math.abs(v - trueW[i])).toBeLessThan(0.05));
    disposeAll([firstTensor, lossTensor, evalBatch]);
    opt.dispose();
    ema.dispose();
    acc.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
