// Bad inputs fail early with typed errors that say what was expected and what came.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DTypeError, ShapeError, ValueError } from '../src/errors';
import {
  CausalConv3d,
  Conv2d,
  Embedding,
  GroupNorm,
  LayerNorm,
  Linear,
  MultiheadAttention,
  ResidualAttentionBlock,
  torchConv2dWeightToHWIO,
} from '../src/layers';
import {
  causalConv3d,
  conv2dTorch,
  depthToSpace2d,
  depthToSpace3d,
  gelu,
  groupNorm,
  layerNorm,
  scaledDotProductAttention,
  silu,
  spaceToDepth2d,
  straightThrough,
} from '../src/ops';

const f = (...shape: number[]) => tf.zeros(shape);
const i32 = (...shape: number[]) => tf.zeros(shape, 'int32');
const live: tf.Tensor[] = [];
const keep = <T extends tf.Tensor>(t: T): T => (live.push(t), t);
afterAll(() => tf.dispose(live));

describe('dtype checks', () => {
  it('int tensors where float is needed raise DTypeError naming the op and dtype', () => {
    const ids = keep(i32(2, 3));
    expect(() => gelu(ids)).toThrow(DTypeError);
    expect(() => gelu(ids)).toThrow(/gelu: x must be float32, got int32/);
    expect(() => silu(ids)).toThrow(DTypeError);
    expect(() => layerNorm(ids)).toThrow(DTypeError);
    expect(() => scaledDotProductAttention(ids, ids, ids)).toThrow(/q must be float32/);
    const lin = new Linear(3, 2);
    expect(() => lin.forward(ids)).toThrow(DTypeError);
    lin.dispose();
  });

  it('Embedding wants int32 ids', () => {
    const e = new Embedding(4, 2);
    expect(() => e.forward(keep(f(3)))).toThrow(DTypeError);
    expect(() => e.forward(keep(f(3)))).toThrow(/ids must be int32, got float32/);
    e.dispose();
  });

  it('a mask must be bool or float32', () => {
    const q = keep(f(1, 2, 4));
    expect(() => scaledDotProductAttention(q, q, q, { mask: keep(i32(2, 2)) })).toThrow(DTypeError);
  });
});

describe('shape checks', () => {
  it('wrong last dimension says expected and got', () => {
    const lin = new Linear(4, 2);
    expect(() => lin.forward(keep(f(2, 3)))).toThrow(ShapeError);
    expect(() => lin.forward(keep(f(2, 3)))).toThrow(/expected x last dimension \(in features\) 4, got 3 in shape \[2, 3\]/);
    lin.dispose();
    const ln = new LayerNorm(8);
    expect(() => ln.forward(keep(f(2, 6)))).toThrow(/expected x last dimension \(channels\) 8, got 6/);
    ln.dispose();
    const gn = new GroupNorm(2, 4);
    expect(() => gn.forward(keep(f(1, 2, 2, 6)))).toThrow(ShapeError);
    expect(() => gn.forward(keep(f(2, 4)))).toThrow(/rank >= 3/);
    gn.dispose();
  });

  it('wrong rank names the layout', () => {
    expect(() => conv2dTorch(keep(f(2, 3, 3)), keep(f(3, 3, 3, 4)))).toThrow(/expected x of rank 4 \[B,H,W,C\], got rank 3 with shape \[2, 3, 3\]/);
    expect(() => causalConv3d(keep(f(1, 2, 3, 3)), keep(f(3, 3, 3, 3, 4)))).toThrow(ShapeError);
    expect(() => depthToSpace3d(keep(f(1, 2, 2, 8)), 2, 2)).toThrow(/rank 5 \[B,T,H,W,C\]/);
    const mha = new MultiheadAttention(4, 2);
    expect(() => mha.forward(keep(f(3, 4)))).toThrow(/expected query of rank 3 \[B,N,E\]/);
    mha.dispose();
    expect(() => torchConv2dWeightToHWIO(keep(f(3, 3, 3)))).toThrow(ShapeError);
  });

  it('channel mismatches and indivisible sizes', () => {
    expect(() => conv2dTorch(keep(f(1, 4, 4, 3)), keep(f(3, 3, 2, 4)))).toThrow(/kernel input channels 2/);
    expect(() => groupNorm(keep(f(1, 2, 2, 6)), 4)).toThrow(/must be divisible by numGroups 4/);
    expect(() => depthToSpace2d(keep(f(1, 2, 2, 6)), 2)).toThrow(/divisible by blockSize² = 4/);
    expect(() => spaceToDepth2d(keep(f(1, 3, 4, 1)), 2)).toThrow(ShapeError);
    expect(() => layerNorm(keep(f(2, 4)), keep(f(3)))).toThrow(/expected gamma of shape \[4\], got \[3\]/);
    expect(() => straightThrough(keep(f(2, 3)), keep(f(3, 2)))).toThrow(ShapeError);
    const q = keep(f(2, 3, 4));
    expect(() => scaledDotProductAttention(q, keep(f(2, 5, 3)), keep(f(2, 5, 4)))).toThrow(/k last dimension 4/);
    expect(() => scaledDotProductAttention(q, keep(f(1, 5, 4)), keep(f(1, 5, 4)))).toThrow(/leading dimensions/);
    expect(() => scaledDotProductAttention(q, q, q, { mask: keep(tf.ones([2, 4], 'bool')) })).toThrow(/does not broadcast/);
  });

  it('a kernel larger than the padded input', () => {
    expect(() => conv2dTorch(keep(f(1, 2, 2, 1)), keep(f(3, 3, 1, 1)))).toThrow(/too small/);
  });
});

describe('option and config checks', () => {
  it("'same' padding with stride > 1 is refused as in PyTorch", () => {
    expect(() => conv2dTorch(keep(f(1, 4, 4, 1)), keep(f(3, 3, 1, 1)), { padding: 'same', stride: 2 })).toThrow(ValueError);
  });

  it('negative or fractional padding, zero stride, bad block size', () => {
    expect(() => conv2dTorch(keep(f(1, 4, 4, 1)), keep(f(3, 3, 1, 1)), { padding: -1 })).toThrow(ValueError);
    expect(() => conv2dTorch(keep(f(1, 4, 4, 1)), keep(f(3, 3, 1, 1)), { stride: 0 })).toThrow(ValueError);
    expect(() => depthToSpace2d(keep(f(1, 2, 2, 4)), 1.5)).toThrow(ValueError);
  });

  it('layer constructors reject impossible configs', () => {
    expect(() => new MultiheadAttention(10, 3)).toThrow(ConfigError);
    expect(() => new GroupNorm(3, 8)).toThrow(ConfigError);
    expect(() => new Linear(0, 2)).toThrow(ConfigError);
    expect(() => new Conv2d(3, 4, 0)).toThrow(ConfigError);
    expect(() => new CausalConv3d(3, 4, [2, 0, 3])).toThrow(ConfigError);
    expect(() => new ResidualAttentionBlock(10, 4)).toThrow(ConfigError);
  });

  it('attention layouts, block namings, norm positions and dropouts are checked before anything is built', () => {
    const before = tf.memory().numTensors;
    expect(() => new MultiheadAttention(8, 2, { layout: 'fused' as never })).toThrow(/layout must be 'in-proj', 'packed' or 'separate'/);
    expect(() => new MultiheadAttention(8, 2, { dropout: 1 })).toThrow(ConfigError);
    expect(() => new ResidualAttentionBlock(8, 2, { naming: 'gpt' as never })).toThrow(/unknown naming 'gpt'/);
    expect(() => new ResidualAttentionBlock(8, 2, { norm: 'sandwich' as never })).toThrow(/norm must be 'pre' or 'post'/);
    expect(() => new ResidualAttentionBlock(8, 2, { dropout: -0.1 })).toThrow(ConfigError);
    expect(() => new ResidualAttentionBlock(8, 2, { mlpHidden: 2.5 })).toThrow(ConfigError);
    expect(tf.memory().numTensors).toBe(before);
    const q = keep(f(1, 2, 3, 4));
    expect(() => scaledDotProductAttention(q, q, q, { dropout: 1.5 })).toThrow(ValueError);
  });

  it('causal groupNorm needs a frame axis', () => {
    expect(() => groupNorm(keep(f(2, 5, 4)), 2, undefined, undefined, 1e-5, { causal: true })).toThrow(/rank >= 4 \[B,T,...spatial,C\] \(causal\)/);
  });

  it('a failed call leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    const lin = new Linear(4, 2);
    const x = f(2, 3);
    expect(() => lin.forward(x)).toThrow();
    x.dispose();
    lin.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
