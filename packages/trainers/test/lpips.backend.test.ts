// LPIPS (VGG16, v0.1): the architecture against a float64 reference of lpips.LPIPS(net='vgg'), loading
// through core's I/O layer from official-layout state dicts (one full file, or the lin file plus torchvision's
// VGG16 names), a save/load round trip, the metric's properties, gradients, leaks and typed errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, StateDictError, saveModel, torchStateDictEntries, withoutRandomInit, writeSafetensors } from '@vtok/core';
import { disposeAll, expectClose, expectError, expectNoLeak } from '@vtok/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { LPIPS, type PerceptualLoss, loadLPIPS } from '../src';
import { type Arr, type Params, lpipsForward, lpipsParams, map, randomArr, toRaw } from './losses-reference';

const CHANNELS = [4, 6, 8, 8, 8];
const TOL = 1e-4;
const folder = mkdtempSync(join(tmpdir(), 'vtok-lpips-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const nhwc = (x: Arr) => tf.tidy(() => tf.transpose(tf.tensor4d(Float32Array.from(x.data), x.shape as [number, number, number, number]), [0, 2, 3, 1]));
/** Images in [-1, 1]: tanh of normals. */
const images = (seed: number, n = 2, size = 20) => map(randomArr([n, 3, size, size], seed), (v) => Math.fround(Math.tanh(v)));
const pick = (params: Params, keep: (name: string) => boolean): Params => Object.fromEntries(Object.entries(params).filter(([k]) => keep(k)));

describe('LPIPS', () => {
  it('has the official names and PyTorch shapes (VGG16 widths by default, lin<k>.model.1 without bias)', () => {
    const model = withoutRandomInit(() => new LPIPS());
    const shapes = Object.fromEntries(Object.entries(torchStateDictEntries(model)).map(([k, v]) => [k, v.shape]));
    const official = lpipsParams(CHANNELS, 1);
    expect(Object.keys(shapes).sort()).toEqual(Object.keys(official).filter((k) => !k.startsWith('scaling_layer.')).sort());
    expect(shapes['net.slice1.0.weight']).toEqual([64, 3, 3, 3]);
    expect(shapes['net.slice3.14.weight']).toEqual([256, 256, 3, 3]);
    expect(shapes['net.slice5.28.bias']).toEqual([512]);
    expect(shapes['lin4.model.1.weight']).toEqual([1, 512, 1, 1]);
    expect(model.trainableVariables()).toEqual([]);
    model.dispose();
  });

  it('loads a full official state dict (safetensors in a folder, written by core`s saver) and equals the float64 reference', async () => {
    const params = lpipsParams(CHANNELS, 2);
    const dir = join(folder, 'full');
    await saveModel(dir, { config: {}, tensors: toRaw(params) });
    const model = await loadLPIPS(dir);
    expect(model.channels).toEqual(CHANNELS);
    for (const [name, entry] of Object.entries(torchStateDictEntries(model))) await expectClose(await entry.read(), params[name].data, 0, name);
    const [x, y] = [images(3), images(4)];
    const [tx, ty] = [nhwc(x), nhwc(y)];
    const d = model.distance(tx, ty);
    expect(d.shape).toEqual([2]);
    await expectClose(d, lpipsForward(params, x, y), TOL, 'distance');
    const c = model.compute(tx, ty);
    await expectClose([(await c.data())[0]], [Array.from(await d.data()).reduce((s, v) => s + v, 0) / 2], 1e-6, 'compute = batch mean');
    await expectNoLeak(() => model.distance(tx, ty), 'distance');
    await expectNoLeak(() => model.compute(tx, ty), 'compute');
    disposeAll([tx, ty, d, c]);
    model.dispose();
  });

  it("loads the official pair of files (lin layers + torchvision's VGG16 `features.*`), reporting every problem of both in one error", async () => {
    const params = lpipsParams(CHANNELS, 5);
    const lins = pick(params, (k) => k.startsWith('lin') || k.startsWith('scaling_layer.'));
    const vgg: Params = { 'classifier.0.weight': randomArr([2, 3], 6) };
    for (const [k, v] of Object.entries(params)) {
      const m = /^net\.slice\d\.(\d+)\.(weight|bias)$/.exec(k);
      if (m) vgg[`features.${m[1]}.${m[2]}`] = v;
    }
    const linFile = { 'vgg.safetensors': await writeSafetensors(toRaw(lins)) };
    const vggFile = { 'vgg16.safetensors': await writeSafetensors(toRaw(vgg)) };
    const model = await loadLPIPS(linFile, { vgg: vggFile });
    const [x, y] = [images(7), images(8)];
    const [tx, ty] = [nhwc(x), nhwc(y)];
    const d = model.distance(tx, ty);
    await expectClose(d, lpipsForward(params, x, y), TOL, 'distance');
    disposeAll([tx, ty, d]);
    model.dispose();

    const before = tf.memory().numTensors;
    const noLin2 = { 'vgg.safetensors': await writeSafetensors(toRaw(pick(lins, (k) => k !== 'lin2.model.1.weight'))) };
    const noBias = { 'vgg16.safetensors': await writeSafetensors(toRaw(pick(vgg, (k) => k !== 'features.28.bias'))) };
    const error = await expectError(() => loadLPIPS(noLin2, { vgg: noBias }), StateDictError);
    expect(error.problems.missing.sort()).toEqual(['lin2.model.1.weight', 'net.slice5.28.bias']);
    expect(error.message).toMatch(/^vgg\.safetensors .*\+ vgg16\.safetensors .*does not match the model/);
    await expectError(() => loadLPIPS(linFile, { vgg: linFile }), ConfigError, /"lin0.model.1.weight" is given by both vgg\.safetensors .* and vgg\.safetensors .*; give each weight once/);
    expect(tf.memory().numTensors, 'failed loads leave nothing').toBe(before);
  });

  it('round trip: an in-memory LPIPS saved in the torch layout loads back to the same distances', async () => {
    const model = new LPIPS({ channels: CHANNELS, seed: 9 });
    const dir = join(folder, 'round-trip');
    await saveModel(dir, { config: {}, tensors: torchStateDictEntries(model) });
    const loaded = await loadLPIPS(dir);
    const [tx, ty] = [nhwc(images(10)), nhwc(images(11))];
    const [a, b] = [model.distance(tx, ty), loaded.distance(tx, ty)];
    await expectClose(b, a, 0, 'same distances');
    disposeAll([tx, ty, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('is a metric-like distance: d(x, x) = 0, symmetric, >= 0, growing with the perturbation; normalize maps [0, 1] inputs', async () => {
    const params = lpipsParams(CHANNELS, 12);
    const model: LPIPS = await loadLPIPS({ 'model.safetensors': await writeSafetensors(toRaw(params)) });
    const loss: PerceptualLoss = model;
    const x = nhwc(images(13));
    const noise = nhwc(randomArr([2, 3, 20, 20], 14));
    const self = model.distance(x, x);
    expect(Array.from(await self.data())).toEqual([0, 0]);
    const perturbed = [0.02, 0.1, 0.5].map((s) => tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(noise, s)), -1, 1)));
    const ds = await Promise.all(perturbed.map(async (p) => Array.from(await model.distance(x, p).data())));
    for (let b = 0; b < 2; b++) {
      expect(ds[0][b]).toBeGreaterThan(0);
      expect(ds[1][b]).toBeGreaterThan(ds[0][b]);
      expect(ds[2][b]).toBeGreaterThan(ds[1][b]);
    }
    const [xy, yx] = [model.distance(x, perturbed[2]), model.distance(perturbed[2], x)];
    await expectClose(yx, xy, 1e-6, 'symmetric');
    const unit = new LPIPS({ channels: CHANNELS, normalize: true });
    unit.loadStateDict(model.stateDict());
    const [ux, up] = [tf.tidy(() => tf.div(tf.add(x, 1), 2)), tf.tidy(() => tf.div(tf.add(perturbed[2], 1), 2))];
    const fromUnit = unit.compute(ux, up);
    const signed = loss.compute(x, perturbed[2]);
    await expectClose([(await fromUnit.data())[0]], [(await signed.data())[0]], 1e-5, 'normalize');
    disposeAll([x, noise, self, perturbed, xy, yx, ux, up, fromUnit, signed]);
    unit.dispose();
    loss.dispose();
  });

  it('gradients w.r.t. the lin layers and the images are finite and non-zero', async () => {
    const model = new LPIPS({ channels: CHANNELS, seed: 15 });
    const lins = [...model.namedParameters()].filter(([n]) => n.startsWith('lin'));
    for (const [, v] of lins) v.trainable = true;
    const x = nhwc(images(16, 2, 32));
    const y = tf.variable(nhwc(images(17, 2, 32)));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => model.compute(x, y), [...lins.map(([, v]) => v), y]);
    expect(Object.keys(grads).length).toBe(6);
    for (const [id, g] of Object.entries(grads)) {
      const data = await g.data();
      expect(data.every(Number.isFinite), `${id} finite`).toBe(true);
      expect(data.some((v) => v !== 0), `${id} non-zero`).toBe(true);
    }
    disposeAll([value, grads]);
    expect(tf.memory().numTensors).toBe(before);
    disposeAll([x, y]);
    model.dispose();
  });

  it('where every feature is 0 (a dead ReLU map) the gradient stays finite: the norm`s square root is guarded', async () => {
    const model = new LPIPS({ channels: [2, 2, 2, 2, 2], seed: 19 });
    for (const [name, v] of model.namedParameters()) if (name.startsWith('net.')) v.assign(tf.zerosLike(v));
    const x = nhwc(images(20));
    const y = tf.variable(nhwc(images(21)));
    const { value, grads } = tf.variableGrads(() => model.compute(x, y), [y]);
    expect((await value.data())[0]).toBe(0);
    expect(Array.from(await grads[y.name].data()).every((v) => v === 0)).toBe(true);
    disposeAll([value, grads, x, y]);
    model.dispose();
  });

  it('typed errors for sizes, shapes, dtypes and configs', async () => {
    const model = new LPIPS({ channels: CHANNELS, seed: 18 });
    const small = tf.zeros([1, 8, 8, 3]);
    const a = tf.zeros([1, 16, 16, 3]);
    const b = tf.zeros([1, 16, 17, 3]);
    const ints = tf.zeros([1, 16, 16, 3], 'int32');
    await expectError(() => model.distance(small, small), ShapeError, 'LPIPS.distance: expected images [B, H, W, 3] with H, W >= 16, got [1, 8, 8, 3]');
    await expectError(() => model.compute(a, b), ShapeError, 'LPIPS.compute: x and y must have the same shape, got [1, 16, 16, 3] and [1, 16, 17, 3]');
    await expectError(() => model.compute(a, ints), DTypeError, /LPIPS.compute: y must be float32, got int32/);
    expect(() => new LPIPS({ channels: [4, 4] })).toThrow(/channels must list the 5 VGG stage widths, got 2/);
    expect(() => new LPIPS({ channels: [4, 4, 4, 4, 0] })).toThrow(ConfigError);
    disposeAll([small, a, b, ints]);
    model.dispose();
  });
});
