/**
 * Dead-code restart: a code that no latent chose for `afterCalls` consecutive training calls is replaced by
 * a random latent of the current call, so it starts where the data is (as in Jukebox / lucidrains'
 * `threshold_ema_dead_code`, here counted in calls). Everything stays on the device: the candidates (one
 * random latent per code, drawn from a SeededRandom on the CPU) are gathered every call and kept only
 * where a code is dead, so no read-back decides anything.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SeededRandom } from '@vtok/core';

export interface DeadCodeStep {
  codes: tf.Tensor2D;
  /** Consecutive training calls each code went unchosen, [K]. */
  idleCalls: tf.Tensor1D;
  histogram: tf.Tensor1D;
  /** Raw latents of this call, [N,d]. */
  latents: tf.Tensor2D;
  afterCalls: number;
  rng: SeededRandom;
}

export interface DeadCodeResult {
  codes: tf.Tensor2D;
  idleCalls: tf.Tensor1D;
  /** bool [K]: the codes replaced in this call. */
  restarted: tf.Tensor1D;
}

/** Row indices in [0, n) for each of k codes. */
export function randomRows(rng: SeededRandom, k: number, n: number): Int32Array {
  const rows = new Int32Array(k);
  for (let i = 0; i < k; i++) rows[i] = rng.nextInt(n);
  return rows;
}

export function restartDeadCodes(s: DeadCodeStep): DeadCodeResult {
  const k = s.codes.shape[0];
  const rows = randomRows(s.rng, k, s.latents.shape[0]);
  return tf.tidy(() => {
    const idle = tf.where(tf.greater(s.histogram, 0), tf.zerosLike(s.idleCalls), tf.add(s.idleCalls, 1));
    const restarted = tf.greaterEqual(idle, s.afterCalls) as tf.Tensor1D;
    const candidates = tf.gather(s.latents, tf.tensor1d(rows, 'int32'));
    const codes = tf.where(tf.reshape(restarted, [k, 1]), candidates, s.codes) as tf.Tensor2D;
    const idleCalls = tf.where(restarted, tf.zerosLike(idle), idle) as tf.Tensor1D;
    return { codes, idleCalls, restarted };
  });
}
