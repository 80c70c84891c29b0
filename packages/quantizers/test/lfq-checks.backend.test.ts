// Bad values and tensor leaks for LFQ, FSQ and the token factorisation, on the active backend.
// Value checks (NaN/Inf, ids out of range) run inside the synchronous calls where the data can be read
// synchronously (cpu, wasm: see src/common/validate.ts); elsewhere the async checks catch the same input.
import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '@vtok/core';
import { expectNoLeak, normals } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { assertCodeIndicesAsync, assertFiniteAsync, valueChecksRunSync } from '../src/common/validate';
import { TokenFactorization } from '../src/factorize';
import { FiniteScalarQuantizer } from '../src/fsq';
import { LFQ_PRESETS, LookupFreeQuantizer } from '../src/lfq';

const quantizers = () => [new LookupFreeQuantizer({ dim: 6 }), new FiniteScalarQuantizer({ levels: [8, 5, 5, 5, 3, 3] })];

describe('bad values', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`latents holding ${bad}: ValueError (sync where the backend allows, else the async check)`, async () => {
      for (const q of quantizers()) {
        const values = Float32Array.from(normals(2 * 3 * 6, 1));
        values[7] = bad;
        const z = tf.tensor(values, [2, 3, 6]);
        if (valueChecksRunSync()) {
          expect(() => q.quantize(z), q.type).toThrow(ValueError);
          expect(() => q.quantize(z), q.type).toThrow(/latents must be finite, got 1 NaN or infinite value in shape \[2, 3, 6\]/);
        } else {
          await expect(assertFiniteAsync(z, q.type)).rejects.toThrow(ValueError);
        }
        z.dispose();
      }
    });
  }

  it('ids out of range in lookup: ValueError naming the range', async () => {
    for (const q of quantizers()) {
      for (const id of [-1, q.codebookSize]) {
        const ids = tf.tensor2d([[0, 1], [id, 2]], [2, 2], 'int32');
        if (valueChecksRunSync()) {
          expect(() => q.lookup(ids), `${q.type} id ${id}`).toThrow(ValueError);
          expect(() => q.lookup(ids)).toThrow(`code indices must be in [0, ${q.codebookSize - 1}] (codebook size ${q.codebookSize})`);
        } else {
          await expect(assertCodeIndicesAsync(ids, q.codebookSize, q.type)).rejects.toThrow(ValueError);
        }
        ids.dispose();
      }
    }
  });

  it('checkValues: false skips the read-back checks', () => {
    const q = new LookupFreeQuantizer({ dim: 2, checkValues: false });
    const z = tf.tensor2d([[Number.NaN, 1]]);
    const r = q.quantize(z);
    expect(r.indices.shape).toEqual([1]);
    tf.dispose([z, r.quantized, r.indices]);
  });

  it('token factorisation: ids or sub-tokens out of range', async () => {
    const f = new TokenFactorization({ codebookSize: 2 ** 10, bits: [4, 6] });
    const ids = tf.tensor1d([5, 1024], 'int32');
    const pre = tf.tensor1d([3, 16], 'int32');
    const post = tf.tensor1d([3, 2], 'int32');
    if (valueChecksRunSync()) {
      expect(() => f.split(ids)).toThrow(ValueError);
      expect(() => f.merge([pre, post])).toThrow(/sub-token 0\): code indices must be in \[0, 15\]/);
    } else {
      await expect(assertCodeIndicesAsync(ids, 1024, 'split')).rejects.toThrow(ValueError);
    }
    tf.dispose([ids, pre, post]);
  });
});

describe('no tensor leaks', () => {
  const z = () => tf.tensor(Float32Array.from(normals(2 * 4 * 3 * 10, 3, 0.05)), [2, 4, 3, 10]);

  it('LFQ quantize (eval, training, both formulas, sub-groups), lookup, factorisation', async () => {
    const x = z();
    for (const preset of Object.values(LFQ_PRESETS)) {
      const q = new LookupFreeQuantizer({ ...preset, dim: 10, codebookEntropyGroups: [4, 6], factorizedBits: [3, 7] });
      await expectNoLeak(() => ({ ...q.quantize(x) }), 'quantize eval');
      await expectNoLeak(() => ({ ...q.quantize(x, { training: true }) }), 'quantize training');
      const ids = tf.tensor2d([[0, 1023], [17, 512]], [2, 2], 'int32');
      await expectNoLeak(() => q.lookup(ids), 'lookup');
      const f = q.factorization();
      await expectNoLeak(() => f.split(ids), 'split');
      const parts = f.split(ids);
      await expectNoLeak(() => f.merge(parts), 'merge');
      tf.dispose([ids, ...parts]);
    }
    x.dispose();
  });

  it('LFQ gradients of the training losses', async () => {
    const x = z();
    for (const preset of Object.values(LFQ_PRESETS)) {
      const q = new LookupFreeQuantizer({ ...preset, dim: 10, commitmentLossWeight: 0.25 });
      await expectNoLeak(
        () =>
          tf.grad((v: tf.Tensor) => {
            const r = q.quantize(v, { training: true });
            return tf.add(r.losses.aux, tf.sum(r.quantized));
          })(x),
        'grad',
      );
    }
    x.dispose();
  });

  it('FSQ quantize, lookup, levelIndices and a gradient', async () => {
    const q = new FiniteScalarQuantizer({ levels: [8, 5, 5, 5] });
    const x = tf.tensor(Float32Array.from(normals(3 * 5 * 4, 4)), [3, 5, 4]);
    await expectNoLeak(() => ({ ...q.quantize(x) }), 'quantize');
    await expectNoLeak(() => ({ ...q.quantize(x, { training: true }) }), 'quantize training');
    const ids = tf.tensor1d([0, 999, 123], 'int32');
    await expectNoLeak(() => q.lookup(ids), 'lookup');
    await expectNoLeak(() => q.levelIndices(ids), 'levelIndices');
    await expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(q.quantize(v).quantized))(x), 'grad');
    tf.dispose([x, ids]);
  });
});
