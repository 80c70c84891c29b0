// Depth-to-space / space-to-depth, 2D and 3D, both channel orders, against index-formula references.
import * as tf from '@tensorflow/tfjs-core';

import { describe, expect, it } from 'vitest';
import { depthToSpace2d, depthToSpace3d, spaceToDepth2d, spaceToDepth3d } from '../src/ops';
import { checkOp } from './helpers/check';
import { toTensor } from './helpers/tensors';
import { RefRandom, ref } from './reference';


// Pure data movement: float32 values come back bit-exact, so the forward tolerance is 0.
const EXACT = 0;

describe.each(['tf', 'torch'] as const)("order '%s'", (order) => {
  it('depthToSpace2d matches the reference, with gradient', async () => {
    const rr = new RefRandom(30);
    await checkOp(rr, {
      label: `depthToSpace2d ${order}`,
      op: (x) => depthToSpace2d(x, 2, { order }),
      ref: (x) => ref.depthToSpace2d(x, 2, order),
      inputs: [rr.array([2, 2, 3, 12])],
      forwardTol: EXACT,
    });
  });

  it('spaceToDepth2d matches the reference, with gradient', async () => {
    const rr = new RefRandom(31);
    await checkOp(rr, {
      label: `spaceToDepth2d ${order}`,
      op: (x) => spaceToDepth2d(x, 3, { order }),
      ref: (x) => ref.spaceToDepth2d(x, 3, order),
      inputs: [rr.array([1, 3, 6, 2])],
      forwardTol: EXACT,
    });
  });

  for (const [bt, bs] of [[2, 2], [1, 2], [2, 1]]) {
    it(`depthToSpace3d temporal ${bt} spatial ${bs} matches the reference, with gradient`, async () => {
      const rr = new RefRandom(32 + bt * 3 + bs);
      await checkOp(rr, {
        label: `depthToSpace3d ${order} ${bt}x${bs}`,
        op: (x) => depthToSpace3d(x, bt, bs, { order }),
        ref: (x) => ref.depthToSpace3d(x, bt, bs, order),
        inputs: [rr.array([2, 2, 2, 3, 3 * bt * bs * bs])],
        forwardTol: EXACT,
      });
    });

    it(`spaceToDepth3d temporal ${bt} spatial ${bs} matches the reference, with gradient`, async () => {
      const rr = new RefRandom(42 + bt * 3 + bs);
      await checkOp(rr, {
        label: `spaceToDepth3d ${order} ${bt}x${bs}`,
        op: (x) => spaceToDepth3d(x, bt, bs, { order }),
        ref: (x) => ref.spaceToDepth3d(x, bt, bs, order),
        inputs: [rr.array([1, 2 * bt, 2 * bs, 3 * bs, 2])],
        forwardTol: EXACT,
      });
    });
  }

  it('spaceToDepth inverts depthToSpace exactly (2D and 3D)', async () => {
    const rr = new RefRandom(50);
    const x2 = toTensor(rr.array([2, 3, 2, 8]));
    const x3 = toTensor(rr.array([1, 2, 3, 2, 24]));
    const back2 = tf.tidy(() => spaceToDepth2d(depthToSpace2d(x2, 2, { order }), 2, { order }));
    const back3 = tf.tidy(() => spaceToDepth3d(depthToSpace3d(x3, 2, 2, { order }), 2, 2, { order }));
    expect(Array.from(await back2.data())).toEqual(Array.from(await x2.data()));
    expect(Array.from(await back3.data())).toEqual(Array.from(await x3.data()));
    tf.dispose([x2, x3, back2, back3]);
  });
});

describe('channel order conventions', () => {
  it("'tf' equals tf.depthToSpace (NHWC, DCR)", async () => {
    const rr = new RefRandom(51);
    const x = toTensor(rr.array([1, 2, 3, 8]));
    const ours = depthToSpace2d(x, 2);
    const theirs = tf.depthToSpace(x as tf.Tensor4D, 2, 'NHWC');
    expect(Array.from(await ours.data())).toEqual(Array.from(await theirs.data()));
    tf.dispose([x, ours, theirs]);
  });

  it("'torch' is pixel_shuffle: output (h·2+i, w·2+j, c) reads channel c·4 + i·2 + j", async () => {
    // One pixel, C = 2 output channels: input channel k holds the value k.
    const x = tf.tensor(Array.from({ length: 8 }, (_, k) => k), [1, 1, 1, 8]);
    const y = depthToSpace2d(x, 2, { order: 'torch' });
    // y[0, i, j, c] = c·4 + i·2 + j
    expect(Array.from(await y.data())).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    const yTf = depthToSpace2d(x, 2, { order: 'tf' });
    // y[0, i, j, c] = (i·2 + j)·2 + c
    expect(Array.from(await yTf.data())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    tf.dispose([x, y, yTf]);
  });

  it("3D 'tf' is Open-MAGVIT2's order: channel ((a_t·2 + a_h)·2 + a_w)·C + c", async () => {
    const C = 2;
    const x = tf.tensor(Array.from({ length: 8 * C }, (_, k) => k), [1, 1, 1, 1, 8 * C]);
    const y = depthToSpace3d(x, 2, 2); // [1, 2, 2, 2, C]
    const expected: number[] = [];
    for (let a = 0; a < 2; a++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let c = 0; c < C; c++) expected.push(((a * 2 + i) * 2 + j) * C + c);
    expect(y.shape).toEqual([1, 2, 2, 2, C]);
    expect(Array.from(await y.data())).toEqual(expected);
    tf.dispose([x, y]);
  });
});
