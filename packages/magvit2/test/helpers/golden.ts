/**
 * Golden fixtures (copied from the shared golden set into test/fixtures, see the README there): reading
 * a case, building the Open-MAGVIT2 folder layout a user would have (config.json + weights) from it,
 * layout conversions and the golden README's comparison rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type RawTensor } from '@vtok/core';
import { expect } from 'vitest';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface GoldenCase {
  name: string;
  json: Record<string, any>;
  config: Record<string, any>;
  weightsBytes: Uint8Array;
  io: Record<string, RawTensor>;
}

function bytesOf(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function readCase(name: string): GoldenCase {
  const dir = join(FIXTURES, name);
  const json = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  return {
    name,
    json,
    config: json.config,
    weightsBytes: bytesOf(join(dir, 'weights.safetensors')),
    io: readSafetensors(bytesOf(join(dir, 'io.safetensors')), { copy: true }).tensors,
  };
}

/**
 * Open-MAGVIT2's YAML config (LightningCLI layout, as in configs/Open-MAGVIT2/gpu/*.yaml) for a golden
 * case, from the case's own config: the class tells image from video, the data `size` (one number when
 * square, [h, w] otherwise) and `sequence_length` give the input.
 */
export function openMagvit2Config(c: GoldenCase): Record<string, unknown> {
  const cfg = c.config;
  const video = c.json.kind.startsWith('omagvit2_video');
  const [frames, h, w] = cfg.video_thw ?? cfg.output_thw ?? [undefined, ...(cfg.image_hw ?? [])];
  const size = h === w ? h : [h, w];
  return {
    model: {
      class_path: video ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel' : 'src.Open_MAGVIT2.models.lfqgan.VQModel',
      init_args: {
        ddconfig: cfg.ddconfig,
        lossconfig: {
          target: 'src.Open_MAGVIT2.modules.losses.vqperceptual.VQLPIPSWithDiscriminator',
          params: {
            codebook_weight: cfg.loss_weights?.codebook_weight ?? 0.1,
            commit_weight: cfg.loss_weights?.commit_weight ?? 0.25,
            codebook_enlarge_ratio: cfg.loss_weights?.codebook_enlarge_ratio ?? 0,
            codebook_enlarge_steps: cfg.loss_weights?.codebook_enlarge_steps ?? 2000,
          },
        },
        n_embed: cfg.n_embed,
        embed_dim: cfg.embed_dim,
        sample_minimization_weight: cfg.sample_minimization_weight ?? 1.0,
        batch_maximization_weight: cfg.batch_maximization_weight ?? 1.0,
        use_ema: true,
      },
    },
    data: { init_args: { validation: { params: { config: { size, ...(video ? { sequence_length: frames } : {}) } } } } },
  };
}

/** The files a user would have: config.json + model.safetensors (the case's weights as they are). */
export function caseFiles(c: GoldenCase): Record<string, Uint8Array | string> {
  return { 'config.json': JSON.stringify(openMagvit2Config(c)), 'model.safetensors': c.weightsBytes };
}

/** A golden tensor as a tf tensor in the layout it was stored (NCHW / NCTHW). */
export function golden(c: GoldenCase, name: string): tf.Tensor {
  const t = c.io[name];
  if (!t) throw new Error(`${c.name}: no tensor ${name} in io.safetensors`);
  return tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype as 'float32' | 'int32');
}

/** NCHW -> NHWC, NCTHW -> NTHWC (channels move last). */
export function channelsLast(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (x.rank === 4) return tf.transpose(x, [0, 2, 3, 1]);
    if (x.rank === 5) return tf.transpose(x, [0, 2, 3, 4, 1]);
    throw new Error(`channelsLast: rank ${x.rank}`);
  });
}

/** NHWC -> NCHW, NTHWC -> NCTHW. */
export function channelsFirst(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (x.rank === 4) return tf.transpose(x, [0, 3, 1, 2]);
    if (x.rank === 5) return tf.transpose(x, [0, 4, 1, 2, 3]);
    throw new Error(`channelsFirst: rank ${x.rank}`);
  });
}

/**
 * The golden README's rule, elementwise: |ours − ref| <= ATOL + RTOL·|ref| (float32 computation). The
 * recorded float64 replays differ from the stored tensors by at most ~5e-6, so this leaves room for
 * backend arithmetic while catching any wrong layout, epsilon or variance.
 */
export const ATOL = 1e-4;
export const RTOL = 1e-4;

export async function expectGoldenClose(got: tf.Tensor, ref: tf.Tensor | RawTensor, label: string): Promise<number> {
  expect([...got.shape], `${label}: shape`).toEqual([...ref.shape]);
  const a = await got.data();
  const b = ref instanceof tf.Tensor ? await ref.data() : ref.data;
  let worst = -Infinity;
  let firstBad = -1;
  let maxErr = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - Number(b[i]));
    const excess = err - (ATOL + RTOL * Math.abs(Number(b[i])));
    if (Number.isNaN(err) || excess > 0) {
      if (firstBad < 0) firstBad = i;
    }
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : excess);
    maxErr = Math.max(maxErr, Number.isNaN(err) ? Infinity : err);
  }
  if (process.env.VTOK_REPORT_ERRORS) console.log(`[err] ${maxErr.toExponential(2)}  ${label}`);
  expect(worst, `${label}: max abs error ${maxErr.toExponential(2)} exceeds ${ATOL} + ${RTOL}·|ref| (first bad element ${firstBad})`).toBeLessThanOrEqual(0);
  return maxErr;
}

/** Integer tensors must match exactly. */
export async function expectExact(got: tf.Tensor, ref: tf.Tensor | RawTensor, label: string): Promise<void> {
  expect([...got.shape], `${label}: shape`).toEqual([...ref.shape]);
  const a = Array.from(await got.data());
  const b = Array.from(ref instanceof tf.Tensor ? await ref.data() : ref.data);
  const bad = a.findIndex((v, i) => v !== b[i]);
  expect(bad, `${label}: first difference at ${bad} (${a[bad]} vs ${b[bad]})`).toBe(-1);
}
