/**
 * Recipe 4: training a generator (MaskGIT) on tokens pre-computed by any tokenizer (a token dataset from
 * `tokenizeDataset` / `loadTokenDataset`), with class dropout for classifier-free guidance. The objective is
 * the generator's own (core's TrainableGenerator.trainingLoss); every draw comes from the trainer's
 * checkpointed generator, so a resumed run masks exactly as an uninterrupted one.
 *
 * Defaults (1d-tokenizer `configs/training/generator/maskgit.yaml`): AdamW lr 2e-4, betas (0.9, 0.96),
 * weight decay 0.03, cosine to 1e-5 after a warm-up (5 % of the run here; officially 10k of 500k steps),
 * clip 1.0, EMA 0.999, class dropout 0.1 (the model's `classLabelDropout`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, ShapeError, ValueError, formatShape, type TrainableGenerator } from '@vtok/core';
import type { TokenBatch } from '../data/batches';
import type { Dataset, TokenExample } from '../data/dataset';
import { Trainer, type FitResult } from '../trainer';
import { dataOf, fitOptionsOf, phaseSettings, type OptimizerSettings, type ParameterSelection, type RunOptions } from './common';

export type TrainableGeneratorModule = Module & TrainableGenerator;

export interface TrainGeneratorOptions extends RunOptions, OptimizerSettings {
  /** Probability of training a sample unconditionally (guidance); default the model's own (official 0.1). */
  classDropout?: number;
  train?: ParameterSelection;
}

const WHO = 'trainGenerator';

/** Trains `generator` on a token dataset with labels; the weights change in place (EMA weights at the end). */
export async function trainGenerator(generator: TrainableGeneratorModule, data: Dataset<TokenExample>, options: TrainGeneratorOptions): Promise<FitResult> {
  if (!(generator instanceof Module) || typeof (generator as Partial<TrainableGenerator>).trainingLoss !== 'function') {
    throw new ConfigError(`${WHO}: the generator must be a Module with trainingLoss (core's TrainableGenerator); got ${generator?.constructor?.name ?? typeof generator}`);
  }
  const expected = generator.tokens.shape.reduce((a, b) => a * b, 1);
  const trainer = new Trainer<TokenBatch>({
    seed: options.seed ?? 0,
    phases: [
      {
        name: 'generator',
        module: generator,
        ...phaseSettings(generator, options, { lr: 2e-4, betas: [0.9, 0.96], weightDecay: 0.03 }, WHO),
        loss: (batch, ctx) => {
          if (!batch.labels) throw new ValueError(`${WHO}: the token dataset has no labels; class-conditional training needs one class per sample`);
          if (batch.tokens.shape[1] !== expected) {
            throw new ShapeError(`${WHO}: the dataset's tokens are ${formatShape(batch.tokens.shape)}, the generator takes ${expected} tokens per sample (token shape ${formatShape(generator.tokens.shape)}); tokenize with the tokenizer it pairs with`);
          }
          const tokens = generator.tokens.shape.length > 1 ? tf.reshape(batch.tokens, [batch.tokens.shape[0], ...generator.tokens.shape]) : batch.tokens;
          return generator.trainingLoss(tokens, batch.labels, { random: ctx.random, classDropout: options.classDropout });
        },
      },
    ],
  });
  try {
    const result = await trainer.fit(dataOf(data, { batchSize: options.batchSize ?? 32, seed: options.seed ?? 0, prefetch: options.prefetch, dropLast: true }), fitOptionsOf(options));
    trainer.emaOf('generator')?.copyTo();
    return result;
  } finally {
    trainer.dispose();
  }
}
