// The heap-reading Slice, SplitV and Unpack kernels must give the cpu backend's result for every
// layout and dtype, and leave no tensor behind.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { copySlice } from '../src/slice';
import { wasm } from '../src/index';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const ramp = (shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32') =>
  tf.tensor(Array.from({ length: size(shape) }, (_, i) => (dtype === 'bool' ? i % 3 === 0 : i * 0.5 - 7)) as never, shape, dtype);

async function sameOnCpu(f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const read = async () => {
    const before = tf.memory().numTensors;
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    const got = await Promise.all(list.map(async (t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) })));
    tf.dispose(list);
    expect(tf.memory().numTensors).toBe(before);
    return got;
  };
  const onWasm = await read();
  await tf.setBackend('cpu');
  const onCpu = await read();
  await tf.setBackend('wasm');
  expect(onWasm).toEqual(onCpu);
}

describe('wasm Slice, SplitV and Unpack on the heap', () => {
  beforeAll(async () => {
    await wasm().activate();
  });

  it('copySlice copies runs that span every fully covered trailing axis', () => {
    const shape = [3, 4, 5];
    const src = Float32Array.from({ length: 60 }, (_, i) => i);
    const dst = new Float32Array(2 * 4 * 5);
    copySlice(src, shape, [1, 0, 0], [2, 4, 5], dst);
    expect(Array.from(dst)).toEqual(Array.from(src.subarray(20, 60)));
    const inner = new Float32Array(3 * 2 * 2);
    copySlice(src, shape, [0, 1, 3], [3, 2, 2], inner);
    expect(Array.from(inner)).toEqual([8, 9, 13, 14, 28, 29, 33, 34, 48, 49, 53, 54]);
  });

  const cases: { name: string; shape: number[]; begin: number[]; size: number[] }[] = [
    { name: 'rank 1', shape: [50], begin: [7], size: [30] },
    { name: 'row block (contiguous)', shape: [96, 40], begin: [32, 0], size: [32, 40] },
    { name: 'column block (long runs)', shape: [6, 120], begin: [0, 40], size: [6, 40] },
    { name: 'single column (short runs)', shape: [9, 7], begin: [0, 3], size: [9, 1] },
    { name: 'rank 4 inner block', shape: [2, 5, 6, 7], begin: [1, 1, 2, 3], size: [1, 3, 4, 4] },
    { name: 'rank 5', shape: [2, 3, 4, 5, 6], begin: [0, 1, 0, 2, 1], size: [2, 2, 4, 3, 5] },
    { name: 'size -1 to the end', shape: [4, 9], begin: [1, 4], size: [-1, -1] },
    { name: 'empty', shape: [4, 9], begin: [1, 4], size: [0, 3] },
  ];
  for (const { name, shape, begin, size: sz } of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`slice ${name} (${dtype})`, async () => {
        const x = ramp(shape, dtype);
        await sameOnCpu(() => tf.slice(x, begin, sz));
        x.dispose();
      });
    }
  }

  it('split along each axis, equal and uneven sizes', async () => {
    const x = ramp([6, 9, 12]);
    for (const axis of [0, 1, 2]) {
      await sameOnCpu(() => tf.split(x, 3, axis));
      await sameOnCpu(() => tf.split(x, [1, -1, 2], axis));
    }
    x.dispose();
  });

  it('unstack along each axis', async () => {
    const x = ramp([3, 4, 5], 'int32');
    for (const axis of [0, 1, 2, -1]) await sameOnCpu(() => tf.unstack(x, axis));
    x.dispose();
  });

  it('keeps gradients through slice and split', async () => {
    const x = ramp([4, 6]);
    await sameOnCpu(() => {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.split(t, [2, 4], 1)[1]!, tf.slice(t, [0, 0], [4, 4]))))(x);
      return g;
    });
    x.dispose();
  });
});
