/**
 * Recipe 2: TiTok's two-stage training (1d-tokenizer `configs/training/TiTok/stage1|stage2`).
 *
 * Stage 1 ("warm-up with proxy codes"): the student (a TiTok without pixel decoder) predicts, per position
 * of a frozen 2D VQ teacher's latent grid, logits over the teacher's codebook; the loss is the cross-entropy
 * against the teacher's codes of the same image plus the student's quantizer loss (weight 1). Defaults:
 * AdamW lr 1e-4, betas (0.9, 0.99), weight decay 1e-4, cosine to 1e-5, clip 1.0, EMA 0.999.
 * Stage 2 ("decoder fine-tuning"): the student with the teacher's decoder and codebook as its pixel decoder,
 * encoder, quantizer and latent tokens frozen, trained in pixels (`trainTokenizer`, L2; the official adds
 * a perceptual loss 0.1 and a GAN from step 20k: pass `perceptual` / `gan`).
 * The glue between the stages (building the stage-2 model from the stage-1 student and the teacher) is the
 * model package's (`toStage2`); trainers only knows core's contracts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape, type TrainableTokenizer } from '@vtok/core';
import type { NamedVariables } from '../params';
import type { ImageBatch } from '../data/batches';
import type { Dataset, ImageExample } from '../data/dataset';
import { quantizerLoss, type QuantizerLossWeights } from '../losses/quantizer';
import { Trainer, type FitResult } from '../trainer';
import { dataOf, fitOptionsOf, phaseSettings, type OptimizerSettings, type ParameterSelection, type RunOptions } from './common';
import { trainTokenizer, weightsModuleOf, type TrainableTokenizerModule, type TrainTokenizerOptions } from './tokenizer';

export interface TrainProxyCodesOptions extends RunOptions, OptimizerSettings {
  quantizer?: QuantizerLossWeights;
  train?: ParameterSelection;
}

const WHO = 'trainProxyCodes';

/** Stage 1: trains `student` to predict `teacher`'s codes (the teacher is not changed). */
export async function trainProxyCodes(student: TrainableTokenizerModule, teacher: TrainableTokenizer, data: Dataset<ImageExample>, options: TrainProxyCodesOptions): Promise<FitResult> {
  if (typeof (teacher as Partial<TrainableTokenizer>)?.forward !== 'function') throw new ConfigError(`${WHO}: the teacher must implement core's TrainableTokenizer (forward)`);
  const weights = weightsModuleOf(student, WHO);
  const codes = teacher.tokens.vocabSize;
  const trainer = new Trainer<ImageBatch>({
    seed: options.seed ?? 0,
    phases: [
      {
        name: 'model',
        module: weights,
        ...phaseSettings(weights, options, { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 1e-4 }, WHO),
        loss: (batch) => {
          // The teacher is frozen: its codes are targets, outside the student's gradient.
          const target = tf.tidy(() => {
            const t = teacher.forward(batch.images, { training: false });
            const ids = tf.keep(t.indices);
            return ids;
          });
          const out = student.forward(batch.images, { training: true });
          if (!out.logits) throw new ConfigError(`${WHO}: the student's forward gave no proxy-code logits (a TiTok stage-1 model has a legacy decoder without pixel decoder)`);
          const logits = out.logits;
          if (logits.shape[logits.rank - 1] !== codes || logits.size / codes !== target.size) {
            throw new ShapeError(`${WHO}: the student predicts logits ${formatShape(logits.shape)}, the teacher gives ${formatShape(target.shape)} codes of ${codes}; their grids and codebooks must match`);
          }
          const flat = tf.reshape(logits, [-1, codes]);
          const ce = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(flat), tf.oneHot(tf.reshape(target, [-1]), codes)), -1))) as tf.Scalar;
          const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(flat, -1), tf.cast(tf.reshape(target, [-1]), 'int32')), 'float32'));
          target.dispose();
          const q = quantizerLoss(out, options.quantizer);
          return { loss: tf.add(ce, q) as tf.Scalar, logs: { proxy_ce: ce, proxy_accuracy: accuracy, quantizer: q } };
        },
      },
    ],
  });
  try {
    const result = await trainer.fit(dataOf(data, { batchSize: options.batchSize ?? 8, seed: options.seed ?? 0, prefetch: options.prefetch, dropLast: true }), fitOptionsOf(options));
    trainer.emaOf('model')?.copyTo();
    return result;
  } finally {
    trainer.dispose();
  }
}

export interface TwoStageOptions {
  stage1: TrainProxyCodesOptions;
  stage2: Omit<TrainTokenizerOptions, 'train'>;
  /**
   * Builds the stage-2 model from the trained student and the teacher (e.g. `@vtok/titok`'s helper), and
   * says which of its parameters train (official: everything but the encoder, quantizer and latent tokens).
   */
  toStage2(student: TrainableTokenizerModule, teacher: TrainableTokenizer): { model: TrainableTokenizerModule; train: NamedVariables | ParameterSelection };
}

/** Both stages in a row; returns the stage-2 model (the caller owns it) and both runs' results. */
export async function trainTwoStage(
  student: TrainableTokenizerModule,
  teacher: TrainableTokenizer,
  data: Dataset<ImageExample>,
  options: TwoStageOptions,
): Promise<{ model: TrainableTokenizerModule; stage1: FitResult; stage2: FitResult }> {
  const stage1 = await trainProxyCodes(student, teacher, data, options.stage1);
  const { model, train } = options.toStage2(student, teacher);
  try {
    const stage2 = await trainTokenizer(model, data, { ...options.stage2, train });
    return { model, stage1, stage2 };
  } catch (error) {
    if (model !== student) weightsModuleOf(model, WHO).dispose();
    throw error;
  }
}
