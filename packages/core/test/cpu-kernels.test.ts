// Core replaces tfjs-backend-cpu kernels that are defective (src/backend/cpu-kernels.ts). Runs on cpu
// (the unit project's backend), the backend whose kernels these are.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CPU_KERNEL_FIXES, SeededRandom } from '../src';

/** out[ids[r]] += x[r], written plainly as the definition of unsortedSegmentSum. */
function reference(x: Float32Array, ids: Int32Array, inner: number, numSegments: number): Float32Array {
  const out = new Float32Array(numSegments * inner);
  ids.forEach((id, r) => {
    if (id < 0 || id >= numSegments) return;
    for (let j = 0; j < inner; j++) out[id * inner + j] += x[r * inner + j]!;
  });
  return out;
}

describe('cpu kernel fixes', () => {
  it('UnsortedSegmentSum: the kernel registered for cpu is ours', () => {
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')?.kernelFunc).toBe(CPU_KERNEL_FIXES.UnsortedSegmentSum);
  });

  it('UnsortedSegmentSum: equals the definition for rows of any shape, ids out of range dropped, int32 stays int32 (the stock kernel returns float32); the gather gradient', async () => {
    const random = new SeededRandom(3);
    const before = tf.memory().numTensors;
    for (const [rows, innerShape, segments] of [[50, [7], 13], [40, [3, 4], 30], [9, [], 4]] as const) {
      const inner = innerShape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: rows * inner }, () => random.next() * 2 - 1);
      const ids = Int32Array.from({ length: rows }, () => Math.floor(random.next() * (segments + 2)) - 1);
      const got = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(values, [rows, ...innerShape]), tf.tensor1d(ids, 'int32'), segments));
      expect(got.shape).toEqual([segments, ...innerShape]);
      const want = reference(values, ids, inner, segments);
      const data = await got.data();
      data.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      tf.dispose(got);
    }
    const ints = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2));
    expect(ints.dtype).toBe('int32');
    expect(Array.from(await ints.data())).toEqual([5, 6, 4, 6]);
    // The gradient of gather (an embedding lookup) goes through it.
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const grad = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([2, 0, 2], 'int32'))))(table));
    expect(Array.from(await grad.data())).toEqual([1, 1, 0, 0, 2, 2]);
    tf.dispose([ints, table, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
