// Recipe 1 on MAGVIT-v2 (a tokenizer whose weights live in its `model`, with LFQ): trainTokenizer trains a
// small Open-MAGVIT2 image tokenizer on smooth colour images; the pixel loss falls by a stated factor (MAGVIT-v2 learns slowly at first: the factor is small).
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { createMagvit2 } from '@vtok/magvit2';
import { prng } from '@vtok/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryImages, trainTokenizer, type LogRecord } from '../src';

// Training runs on wasm, the CPU default users get.
beforeAll(async () => {
  await wasm().activate();
});

/** 16×16 images: a colour gradient in a random direction. */
function gradients(n: number): Float32Array {
  const r = prng(11);
  const out = new Float32Array(n * 16 * 16 * 3);
  for (let i = 0; i < n; i++) {
    const [c0, c1, dx, dy] = [[r.next(), r.next(), r.next()], [r.next(), r.next(), r.next()], r.next() - 0.5, r.next() - 0.5];
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (dx * (x - 7.5) + dy * (y - 7.5)) / 8));
      for (let c = 0; c < 3; c++) out[((i * 16 + y) * 16 + x) * 3 + c] = c0[c] * (1 - t) + c1[c] * t;
    }
  }
  return out;
}

describe('trainTokenizer on MAGVIT-v2 (LFQ)', () => {
  it('the pixel loss falls by more than 1.1× in 40 steps (first step vs the last 5), with the LFQ losses in the logs', async () => {
    const tokenizer = createMagvit2(
      {
        model: {
          class_path: 'src.Open_MAGVIT2.models.lfqgan.VQModel',
          init_args: {
            ddconfig: { double_z: false, z_channels: 6, resolution: 16, in_channels: 3, out_ch: 3, ch: 32, ch_mult: [1, 2, 1], num_res_blocks: 1 },
            n_embed: 64,
            embed_dim: 6,
            sample_minimization_weight: 1.0,
            batch_maximization_weight: 1.0,
          },
        },
        data: { init_args: { validation: { params: { config: { size: 16 } } } } },
      },
      { seed: 1 },
    );
    const data = await memoryImages(gradients(64), { shape: [64, 16, 16, 3] });
    const logs: LogRecord[] = [];
    const before = tf.memory().numTensors;
    await trainTokenizer(tokenizer, data, { steps: 40, batchSize: 8, lr: 3e-3, pixelLoss: 'l1', logEvery: 1, progressBar: false, onLog: (l) => logs.push(l) });
    expect(tf.memory().numTensors).toBe(before);
    const first = logs[0].pixel;
    const last = logs.slice(-5).reduce((s, l) => s + l.pixel, 0) / 5;
    console.info(`MAGVIT-v2 (LFQ, 64 codes) on colour gradients, 40 steps: L1 ${first.toFixed(4)} → ${last.toFixed(4)}`);
    expect(last).toBeLessThan(first / 1.1);
    expect(Number.isFinite(logs.at(-1)!.quantizer)).toBe(true);
    tokenizer.dispose();
  });
});
