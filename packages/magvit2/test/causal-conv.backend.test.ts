/**
 * The frame-wise causal conv (conv2d per temporal tap) is the same function as @vtok/core's
 * causalConv3d (tf.conv3d after causal padding), for every kernel and stride Open-MAGVIT2 uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { causalConv3d, SeededRandom } from '@vtok/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { causalConv3dFrames } from '../src/layers/causal-conv';

beforeAll(() => {
  if (tf.getBackend() === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
});

describe('causalConv3dFrames', () => {
  const rng = new SeededRandom(5);
  const cases: { k: [number, number, number]; stride: [number, number, number]; t: number }[] = [
    { k: [3, 3, 3], stride: [1, 1, 1], t: 5 },
    { k: [3, 3, 3], stride: [2, 2, 2], t: 5 },
    { k: [3, 3, 3], stride: [1, 2, 2], t: 4 },
    { k: [3, 3, 3], stride: [2, 2, 2], t: 1 },
    { k: [1, 1, 1], stride: [1, 1, 1], t: 3 },
  ];
  for (const { k, stride, t } of cases) {
    it(`kernel ${k.join('×')}, stride ${stride.join('×')}, ${t} frames: equals core's causalConv3d`, async () => {
      const [cin, cout] = [6, 5];
      const x = rng.normal([2, t, 6, 8, cin]);
      const w = rng.normal([...k, cin, cout], 0, 0.3);
      const bias = rng.normal([cout]);
      const pad: [number, number] = [Math.floor(k[1] / 2), Math.floor(k[2] / 2)];
      const before = tf.memory().numTensors;
      const ours = causalConv3dFrames(x, w, bias, { stride, padding: pad });
      expect(tf.memory().numTensors).toBe(before + 1);
      const ref = tf.tidy(() => {
        const y = causalConv3d(x, w, { stride, padding: pad });
        return tf.reshape(tf.add(tf.reshape(y, [-1, cout]), bias), y.shape);
      });
      expect(ours.shape).toEqual(ref.shape);
      const a = await ours.data();
      const b = await ref.data();
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
      expect(err).toBeLessThan(1e-4);
      tf.dispose([x, w, bias, ours, ref]);
    });
  }
});
