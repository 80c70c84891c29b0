/**
 * LeCam regularisation of the discriminator (Tseng et al. 2021) as the official trainers compute it, with
 * EMAs (decay 0.999, from 0) of the mean real and mean fake logits. The two codes differ, so the form is
 * chosen by name:
 * - '1d-tokenizer' (`compute_lecam_loss`): relu(mean D(x) − ema_fake)² + relu(ema_real − mean D(x̂))² on the
 *   batch means, with the EMAs from before this step; the EMAs are updated after.
 * - 'open-magvit2' (`LeCAM_EMA`, `lecam_reg`): the EMAs are updated first, then
 *   mean relu(D(x) − ema_fake)² + mean relu(ema_real − D(x̂))² over every logit.
 * The EMAs are float32 on the device (1d-tokenizer's buffers; Open-MAGVIT2 keeps Python floats, a rounding
 * apart), so a step needs no read-back; they are constants for the gradient. The result is unweighted:
 * the recipes multiply it by their LeCam weight (OFFICIAL_GAN).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ValueError, assertFiniteNumber, stopGradient } from '@vtok/core';
import { assertLogits } from './check';

export type LeCamForm = '1d-tokenizer' | 'open-magvit2';

export interface LeCamOptions {
  /** Default 0.999 (both official codes). */
  decay?: number;
  /** Default '1d-tokenizer'. */
  form?: LeCamForm;
}

/** The EMAs as plain numbers, for a checkpoint. */
export interface LeCamState {
  realEma: number;
  fakeEma: number;
}

export class LeCam {
  readonly decay: number;
  readonly form: LeCamForm;
  private readonly realEma: tf.Variable;
  private readonly fakeEma: tf.Variable;

  constructor(options: LeCamOptions = {}) {
    this.decay = options.decay ?? 0.999;
    assertFiniteNumber(this.decay, 'LeCam', 'decay', { min: 0 });
    if (this.decay > 1) throw new ValueError(`LeCam: decay must be in [0, 1], got ${this.decay}`);
    this.form = options.form ?? '1d-tokenizer';
    if (this.form !== '1d-tokenizer' && this.form !== 'open-magvit2') {
      throw new ValueError(`LeCam: form must be '1d-tokenizer' or 'open-magvit2', got '${String(this.form)}'`);
    }
    this.realEma = tf.variable(tf.scalar(0), false);
    this.fakeEma = tf.variable(tf.scalar(0), false);
  }

  /**
   * The regulariser of one discriminator step for its real and fake logits (any shapes [B, ...]), and the
   * EMA update of that step, in the order of the chosen form. Call it once per discriminator step, inside
   * the function given to tf.variableGrads. The caller owns the scalar.
   */
  step(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
    assertLogits(realLogits, 'LeCam.step', 'realLogits');
    assertLogits(fakeLogits, 'LeCam.step', 'fakeLogits');
    return tf.tidy(() => {
      const realMean = tf.mean(realLogits);
      const fakeMean = tf.mean(fakeLogits);
      if (this.form === 'open-magvit2') {
        this.update(realMean, fakeMean);
        return this.penalty(realLogits, fakeLogits);
      }
      const loss = this.penalty(realMean, fakeMean);
      this.update(realMean, fakeMean);
      return loss;
    });
  }

  /**
   * mean relu(real − ema_fake)² + mean relu(ema_real − fake)², on the EMAs as they are now (snapshots: the
   * update re-assigns the variables while the gradient tape may still read its inputs).
   */
  private penalty(real: tf.Tensor, fake: tf.Tensor): tf.Scalar {
    const r = tf.mean(tf.square(tf.relu(tf.sub(real, tf.clone(this.fakeEma)))));
    const f = tf.mean(tf.square(tf.relu(tf.sub(tf.clone(this.realEma), fake))));
    return tf.add(r, f) as tf.Scalar;
  }

  private update(realMean: tf.Tensor, fakeMean: tf.Tensor): void {
    const d = this.decay;
    // The EMAs follow the logits' values only: the update is not part of the gradient.
    this.realEma.assign(tf.add(tf.mul(this.realEma, d), tf.mul(stopGradient(realMean), 1 - d)));
    this.fakeEma.assign(tf.add(tf.mul(this.fakeEma, d), tf.mul(stopGradient(fakeMean), 1 - d)));
  }

  /** The EMAs as numbers (float32 values, exact in a number): importState restores them bit for bit. */
  async exportState(): Promise<LeCamState> {
    const [realEma] = await this.realEma.data();
    const [fakeEma] = await this.fakeEma.data();
    return { realEma, fakeEma };
  }

  importState(state: LeCamState): void {
    if (state === null || typeof state !== 'object') throw new ValueError(`LeCam.importState: expected { realEma, fakeEma }, got ${String(state)}`);
    assertFiniteNumber(state.realEma, 'LeCam.importState', 'realEma');
    assertFiniteNumber(state.fakeEma, 'LeCam.importState', 'fakeEma');
    tf.tidy(() => {
      this.realEma.assign(tf.scalar(state.realEma));
      this.fakeEma.assign(tf.scalar(state.fakeEma));
    });
  }

  dispose(): void {
    this.realEma.dispose();
    this.fakeEma.dispose();
  }
}
