/**
 * GAN objectives on discriminator logits of any shape [B, ...] (patch logits [B, h, w, 1] from the
 * discriminators here): the hinge discriminator loss both official recipes use, and the two generator
 * losses, 1d-tokenizer's hinge and Open-MAGVIT2's non-saturating one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNonNegativeInt } from '@vtok/core';
import { assertLogits } from './check';

/** 0.5·(mean relu(1 − D(x)) + mean relu(1 + D(x̂))), `hinge_d_loss` of taming, 1d-tokenizer and Open-MAGVIT2. */
export function hingeDiscriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  assertLogits(realLogits, 'hingeDiscriminatorLoss', 'realLogits');
  assertLogits(fakeLogits, 'hingeDiscriminatorLoss', 'fakeLogits');
  return tf.tidy(() => {
    const real = tf.mean(tf.relu(tf.sub(1, realLogits)));
    const fake = tf.mean(tf.relu(tf.add(1, fakeLogits)));
    return tf.mul(tf.add(real, fake), 0.5) as tf.Scalar;
  });
}

/** −mean D(x̂): 1d-tokenizer's generator loss (`ReconstructionLoss_Stage2`). */
export function hingeGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  assertLogits(fakeLogits, 'hingeGeneratorLoss', 'fakeLogits');
  return tf.tidy(() => tf.neg(tf.mean(fakeLogits)) as tf.Scalar);
}

/**
 * Open-MAGVIT2's `non_saturate_gen_loss`: the logits are first averaged per sample (over every axis but the
 * batch), then the sigmoid cross-entropy with label 1, softplus(−m), is averaged over the batch. Computed as
 * relu(−m) + log1p(exp(−|m|)), which neither overflows nor loses small values.
 */
export function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  assertLogits(fakeLogits, 'nonSaturatingGeneratorLoss', 'fakeLogits');
  return tf.tidy(() => {
    const m = tf.mean(tf.reshape(fakeLogits, [fakeLogits.shape[0], -1]), 1);
    return tf.mean(tf.add(tf.relu(tf.neg(m)), tf.log1p(tf.exp(tf.neg(tf.abs(m)))))) as tf.Scalar;
  });
}

/**
 * Whether the adversarial terms count at optimiser step `step` (0-based): step >= discriminatorStart, as
 * 1d-tokenizer's `should_discriminator_be_trained` and Open-MAGVIT2's `adopt_weight` (factor 0 before it).
 */
export function ganActive(step: number, discriminatorStart: number): boolean {
  assertNonNegativeInt(step, 'ganActive', 'step');
  assertNonNegativeInt(discriminatorStart, 'ganActive', 'discriminatorStart');
  return step >= discriminatorStart;
}

/** The GAN numbers of the official training configs. */
export interface GanRecipe {
  /** Step from which the discriminator trains and the generator sees its loss. */
  discriminatorStart: number;
  /** Weight of the generator's adversarial loss in its total loss (after `discriminatorStart`). */
  generatorWeight: number;
  /** Which generator loss. */
  generatorLoss: 'hinge' | 'non-saturating';
  /** Weight of the LeCam regulariser in the discriminator loss. */
  lecamWeight: number;
  /** Which LeCam form (see LeCam). */
  lecam: '1d-tokenizer' | 'open-magvit2';
}

export const OFFICIAL_GAN = {
  /** 1d-tokenizer TiTok stage 2: discriminator_weight 0.01 × factor 1.0 from step 20k, LeCam 0.001. */
  titokStage2: { discriminatorStart: 20_000, generatorWeight: 0.01, generatorLoss: 'hinge', lecamWeight: 0.001, lecam: '1d-tokenizer' },
  /** Open-MAGVIT2 ImageNet 128_L: gen_loss_weight 0.1 from step 0, lecam_loss_weight 0.01. */
  openMagvit2Imagenet128: { discriminatorStart: 0, generatorWeight: 0.1, generatorLoss: 'non-saturating', lecamWeight: 0.01, lecam: 'open-magvit2' },
  /** Open-MAGVIT2 ImageNet 256_L, the pretrain and video configs: as 128_L with lecam_loss_weight 0.05. */
  openMagvit2Imagenet256: { discriminatorStart: 0, generatorWeight: 0.1, generatorLoss: 'non-saturating', lecamWeight: 0.05, lecam: 'open-magvit2' },
} as const satisfies Record<string, GanRecipe>;
