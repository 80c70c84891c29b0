// AdamW's checks: every bad option, gradient and state gets a typed error that says what was expected.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, StateDictError, ValueError } from '@vtok/core';
import { disposeAll, expectError } from '@vtok/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { AdamW, OFFICIAL_ADAMW, officialNoWeightDecay } from '../src/adamw';
import { TinyModel } from './helpers';

const models: TinyModel[] = [];
const make = () => {
  const m = new TinyModel();
  models.push(m);
  return m;
};
afterEach(() => models.splice(0).forEach((m) => m.dispose()));

describe('AdamW checks', () => {
  it('refuses bad options with ConfigError', async () => {
    const model = make();
    await expectError(() => new AdamW(model, { lr: -1 }), ConfigError, /AdamW: lr must be a finite number >= 0, got -1/);
    await expectError(() => new AdamW(model, { betas: [0.9, 1] }), ConfigError, /betas\[1\] must be in \[0, 1\), got 1/);
    await expectError(() => new AdamW(model, { betas: [0.9] as unknown as [number, number] }), ConfigError, /two numbers/);
    await expectError(() => new AdamW(model, { eps: Number.NaN }), ConfigError, /eps must be a finite number >= 0, got NaN/);
    await expectError(() => new AdamW(model, { weightDecay: -0.1 }), ConfigError, /weightDecay/);
    await expectError(() => new AdamW('model' as never), ValueError, /expected a Module or \[name, tf.Variable\] pairs/);
  });

  it('refuses gradients it cannot use, before changing anything', async () => {
    const model = make();
    const opt = new AdamW(model);
    const wrongShape = { 'proj.weight': tf.zeros([4, 3]) };
    await expectError(() => opt.step(wrongShape), ShapeError, /gradient of "proj.weight" must have the parameter's shape \[3, 4\], got \[4, 3\]/);
    const unknown = { 'proj.wieght': tf.zeros([3, 4]) };
    await expectError(() => opt.step(unknown), ValueError, /gradient is given for "proj.wieght", which names none of the parameters/);
    const ints = { 'proj.bias': tf.zeros([3], 'int32') };
    await expectError(() => opt.step(ints), DTypeError, /gradient of "proj.bias" must be float32, got int32/);
    const frozen = { frozen: tf.zeros([2]) };
    await expectError(() => opt.step(frozen), ValueError, /"frozen", which names none/);
    const ok = { 'proj.bias': tf.zeros([3]) };
    await expectError(() => opt.step(ok, { lr: Number.POSITIVE_INFINITY }), ValueError, /lr must be a finite number/);
    expect(opt.stepCount).toBe(0);
    disposeAll([wrongShape, unknown, ints, frozen, ok]);
  });

  it('importState reports every unexpected, missing and mis-shaped entry in one StateDictError and keeps its state', async () => {
    const model = make();
    const opt = new AdamW(model);
    const g = { 'proj.bias': tf.ones([3]) };
    opt.step(g);
    const bad = {
      step: tf.scalar(3, 'int32'),
      'state.proj.bias.step': tf.scalar(3, 'int32'),
      'state.proj.bias.exp_avg': tf.zeros([4]),
      'state.proj.bias.exp_avg_sq': tf.zeros([3]),
      'state.ln.weight.exp_avg': tf.zeros([4]),
      'state.nope.exp_avg': tf.zeros([1]),
    };
    const err = await expectError(() => opt.importState(bad), StateDictError);
    expect(err.problems.unexpected).toEqual(['state.nope.exp_avg']);
    expect(err.problems.missing.sort()).toEqual(['state.ln.weight.exp_avg_sq', 'state.ln.weight.step']);
    expect(err.problems.mismatched).toEqual([{ name: 'state.proj.bias.exp_avg', expected: [3], got: [4] }]);
    expect(err.message).toMatch(/the optimiser state does not match/);
    expect(opt.stepCount).toBe(1);
    const badStep = { step: tf.scalar(-1, 'int32') };
    await expectError(() => opt.importState(badStep), ValueError, /step must be a non-negative integer, got -1/);
    disposeAll([g, bad, badStep]);
    opt.dispose();
  });

  it("the official no-decay rule: rank < 2 or a name containing ln, bias, latent_tokens, mask_token, embedding, norm, gamma, embed", () => {
    const v2 = tf.variable(tf.zeros([2, 2]));
    const v1 = tf.variable(tf.zeros([2]));
    expect(officialNoWeightDecay('blocks.0.mlp.c_fc.weight', v2)).toBe(false);
    expect(officialNoWeightDecay('blocks.0.mlp.c_fc.weight', v1)).toBe(true);
    for (const n of ['ln_pre.weight', 'x.bias', 'latent_tokens', 'mask_token', 'pixel_quantize.embedding.weight', 'norm1.w', 'ls.gamma', 'patch_embed.weight', 'positional_embedding']) {
      expect(officialNoWeightDecay(n, v2), n).toBe(true);
    }
    tf.dispose([v1, v2]);
    expect(OFFICIAL_ADAMW.maskgit).toMatchObject({ lr: 2e-4, betas: [0.9, 0.96], weightDecay: 0.03 });
    expect(OFFICIAL_ADAMW.titokStage1).toMatchObject({ lr: 1e-4, betas: [0.9, 0.99], weightDecay: 1e-4 });
  });
});
