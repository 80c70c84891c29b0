// The discriminators against float64 references of the official modules, loaded from state dicts written
// with the official names and PyTorch layouts; gradients of the GAN losses; leaks and typed errors.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, StateDictError, type Module, loadWeightsInto, openModel, torchStateDictEntries, withoutRandomInit, writeSafetensors } from '@vtok/core';
import { disposeAll, expectClose, expectError, expectNoLeak } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import {
  LeCam,
  NLayerDiscriminator,
  PatchGANDiscriminator,
  hingeDiscriminatorLoss,
  hingeGeneratorLoss,
  nonSaturatingGeneratorLoss,
  patchGanKeyOf,
} from '../src';
import { type Arr, type Params, nlayerForward, nlayerParams, patchGanForward, patchGanParams, randomArr, toRaw } from './losses-reference';

const TOL = 1e-4;

/** An NCHW float64 array as an NHWC tensor. */
const nhwc = (x: Arr) => tf.tidy(() => tf.transpose(tf.tensor4d(Float32Array.from(x.data), x.shape as [number, number, number, number]), [0, 2, 3, 1]));
const nchw = (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2]);

/** Copies an official-layout state dict into `model` through core's I/O layer (a safetensors file). */
async function loadOfficial(model: Module, params: Params, keyOf?: (name: string) => string | null): Promise<void> {
  const opened = await openModel(await writeSafetensors(toRaw(params)), { configFile: false });
  try {
    await loadWeightsInto(model, opened.weights, { keyOf });
  } finally {
    await opened.close();
  }
}

/** Every variable's gradient is finite and somewhere non-zero. */
async function expectLiveGradients(grads: Record<string, tf.Tensor>, names: Map<string, string>, label: string): Promise<void> {
  expect(Object.keys(grads).length, `${label}: gradients`).toBe(names.size);
  for (const [id, g] of Object.entries(grads)) {
    const data = await g.data();
    expect(data.every(Number.isFinite), `${label}: ${names.get(id)} finite`).toBe(true);
    expect(data.some((v) => v !== 0), `${label}: ${names.get(id)} non-zero`).toBe(true);
  }
}

const variableNames = (m: Module) => new Map([...m.namedParameters()].map(([n, v]) => [v.name, n]));

describe('NLayerDiscriminator (1d-tokenizer / MaskBit)', () => {
  it('has the official state dict: names and PyTorch shapes of the default (128 hidden, 3 stages)', () => {
    const d = withoutRandomInit(() => new NLayerDiscriminator());
    const shapes = Object.fromEntries(Object.entries(torchStateDictEntries(d)).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'block_in.0.weight': [128, 3, 5, 5],
      'block_in.0.bias': [128],
      'blocks.0.0.weight': [128, 128, 3, 3],
      'blocks.0.0.bias': [128],
      'blocks.0.1.kernel': [1, 1, 4, 4],
      'blocks.0.2.weight': [128],
      'blocks.0.2.bias': [128],
      'blocks.1.0.weight': [256, 128, 3, 3],
      'blocks.1.0.bias': [256],
      'blocks.1.1.kernel': [1, 1, 4, 4],
      'blocks.1.2.weight': [256],
      'blocks.1.2.bias': [256],
      'blocks.2.0.weight': [512, 256, 3, 3],
      'blocks.2.0.bias': [512],
      'blocks.2.1.kernel': [1, 1, 4, 4],
      'blocks.2.2.weight': [512],
      'blocks.2.2.bias': [512],
      'to_logits.0.weight': [512, 512, 1, 1],
      'to_logits.0.bias': [512],
      'to_logits.2.weight': [1, 512, 5, 5],
      'to_logits.2.bias': [1],
    });
    d.dispose();
  });

  for (const [H, pool, taps] of [
    [32, 2, 4],
    [28, 6, 4],
    [27, 3, 5],
  ] as const) {
    it(`${H}×${H}, pool ${pool}, ${taps}-tap blur: loaded from the official layout, equals the float64 reference`, async () => {
      const shape = { inChannels: 3, hidden: 4, stages: 3, groups: 2, pool, blurTaps: { 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1] }[taps] };
      const params = nlayerParams(shape, 10 + H);
      const d = new NLayerDiscriminator({ hiddenChannels: 4, numGroups: 2, poolSize: pool, blurKernelSize: taps, seed: 1 });
      await loadOfficial(d, params);
      const x = randomArr([2, 3, H, H], H);
      const input = nhwc(x);
      await expectNoLeak(() => d.forward(input), 'forward');
      const out = d.forward(input);
      expect(out.shape).toEqual([2, pool, pool, 1]);
      const ref = nlayerForward(params, shape, x);
      const got = nchw(out);
      await expectClose(got, ref, TOL, `logits ${H}`);
      disposeAll([input, out, got]);
      d.dispose();
    });
  }

  it('blurResample false: a 2×2 average pool and no kernel buffers; bad configs and inputs are typed errors', async () => {
    const d = new NLayerDiscriminator({ hiddenChannels: 4, numGroups: 2, poolSize: 2, blurResample: false, seed: 2 });
    expect(Object.keys(d.stateDict()).some((k) => k.endsWith('.kernel'))).toBe(false);
    const x = tf.randomUniform([1, 16, 16, 3]);
    const out = d.forward(x);
    expect(out.shape).toEqual([1, 2, 2, 1]);
    const gray = tf.zeros([1, 16, 16, 1]);
    const ints = tf.zeros([1, 16, 16, 3], 'int32');
    await expectError(() => d.forward(gray), ShapeError, 'NLayerDiscriminator.forward: expected x [B, H, W, 3] with B >= 1, got [1, 16, 16, 1]');
    await expectError(() => d.forward(ints), DTypeError, /NLayerDiscriminator.forward: x must be float32, got int32/);
    const before = tf.memory().numTensors;
    expect(() => new NLayerDiscriminator({ hiddenChannels: 12, numGroups: 8 })).toThrow(ConfigError);
    expect(() => new NLayerDiscriminator({ blurKernelSize: 6 as never })).toThrow(/blurKernelSize must be 3, 4 or 5, got 6/);
    expect(() => new NLayerDiscriminator({ numStages: 0 })).toThrow(/numStages must be a positive integer, got 0/);
    expect(tf.memory().numTensors, 'a refused config allocates nothing').toBe(before);
    disposeAll([x, out, gray, ints]);
    d.dispose();
  });
});

describe('PatchGANDiscriminator (taming)', () => {
  const shape = { inChannels: 3, ndf: 4, nLayers: 3, groups: 2 };

  it('takes the official names (main.<i>.*); BatchNorm`s running statistics are skipped by patchGanKeyOf, reported without it', async () => {
    const params = patchGanParams(shape, 40);
    const d = new PatchGANDiscriminator({ ndf: 4, numGroups: 2, seed: 3 });
    const ours = Object.keys(d.stateDict()).sort();
    expect(ours).toEqual(Object.keys(params).filter((k) => patchGanKeyOf(k) !== null).sort());
    expect(ours).toEqual(['main.0.bias', 'main.0.weight', 'main.11.bias', 'main.11.weight', 'main.2.weight', 'main.3.bias', 'main.3.weight', 'main.5.weight', 'main.6.bias', 'main.6.weight', 'main.8.weight', 'main.9.bias', 'main.9.weight']);
    const error = await expectError(() => loadOfficial(d, params), StateDictError);
    expect(error.problems.unexpected.sort()).toEqual(['main.3.running_mean', 'main.3.running_var', 'main.6.running_mean', 'main.6.running_var', 'main.9.running_mean', 'main.9.running_var']);
    await loadOfficial(d, params, patchGanKeyOf);
    const x = randomArr([2, 3, 32, 32], 41);
    const input = nhwc(x);
    const out = d.forward(input);
    expect(out.shape).toEqual([2, 2, 2, 1]);
    const got = nchw(out);
    await expectClose(got, patchGanForward(params, shape, x), TOL, 'patch logits');
    await expectNoLeak(() => d.forward(input), 'forward');
    disposeAll([input, out, got]);
    d.dispose();
  });

  it("init 'official' is taming's weights_init (conv N(0, 0.02), norm weight N(1, 0.02), bias 0); bad configs are ConfigErrors", async () => {
    const d = new PatchGANDiscriminator({ seed: 4 });
    const sd = d.stateDict();
    const stats = async (t: tf.Tensor) => {
      const v = Array.from(await t.data());
      const m = v.reduce((s, a) => s + a, 0) / v.length;
      return { m, s: Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / v.length) };
    };
    const conv = await stats(sd['main.8.weight']);
    expect(Math.abs(conv.m)).toBeLessThan(1e-3);
    expect(conv.s).toBeGreaterThan(0.019);
    expect(conv.s).toBeLessThan(0.021);
    const norm = await stats(sd['main.9.weight']);
    expect(Math.abs(norm.m - 1)).toBeLessThan(0.01);
    expect(Array.from(await sd['main.9.bias'].data()).every((v) => v === 0)).toBe(true);
    expect(() => new PatchGANDiscriminator({ ndf: 4, numGroups: 3 })).toThrow(/every normalised width \(8, 16, 32\) must be a multiple of numGroups \(3\); 8 is not/);
    expect(() => new PatchGANDiscriminator({ init: 'xavier' as never })).toThrow(ConfigError);
    d.dispose();
  });
});

describe('GAN losses through the discriminators', () => {
  const makers = {
    NLayerDiscriminator: () => new NLayerDiscriminator({ hiddenChannels: 4, numGroups: 2, poolSize: 4, seed: 5 }),
    PatchGANDiscriminator: () => new PatchGANDiscriminator({ ndf: 4, numGroups: 2, seed: 6 }),
  };
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: hinge + LeCam (discriminator step) and both generator losses have finite, non-zero gradients for every parameter and for the fake images`, async () => {
      const d = make();
      const lecam = new LeCam({ decay: 0.5 });
      const real = tf.randomUniform([2, 24, 24, 3], -1, 1, 'float32', 7);
      const fake = tf.variable(tf.randomUniform([2, 24, 24, 3], -1, 1, 'float32', 8));
      const names = variableNames(d);
      const before = tf.memory().numTensors;
      const disc = tf.variableGrads(() => tf.add(hingeDiscriminatorLoss(d.forward(real), d.forward(fake)), tf.mul(lecam.step(d.forward(real), d.forward(fake)), 0.1)) as tf.Scalar, d.trainableVariables());
      await expectLiveGradients(disc.grads, names, 'discriminator step');
      for (const [label, loss] of [['hinge G', hingeGeneratorLoss], ['non-saturating G', nonSaturatingGeneratorLoss]] as const) {
        const g = tf.variableGrads(() => loss(d.forward(fake)), [...d.trainableVariables(), fake]);
        await expectLiveGradients(g.grads, new Map([...names, [fake.name, 'fake images']]), label);
        disposeAll(g);
      }
      disposeAll(disc);
      expect(tf.memory().numTensors, 'only the results were left, and they are freed').toBe(before);
      disposeAll([real, fake]);
      lecam.dispose();
      d.dispose();
    });
  }
});
