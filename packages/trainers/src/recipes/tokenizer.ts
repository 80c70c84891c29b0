/**
 * Recipes 1 and 3: training a tokenizer in one stage (pixel reconstruction + the quantizer's losses,
 * optionally a perceptual loss and a hinge GAN with LeCam), and fine-tuning a loaded one on the user's
 * images (by default only its decoder, so its tokens stay as they were). Any tokenizer that implements
 * core's TrainableTokenizer trains here: TiTok, MAGVIT-v2, the MaskGIT-VQGAN, with any quantizer.
 *
 * Defaults and where they come from:
 * - AdamW lr 1e-4, betas (0.9, 0.99), weight decay 1e-4, the official no-decay rule, cosine to 1e-5 after
 *   a warm-up, clip 1.0, EMA 0.999 (1d-tokenizer's TiTok configs; the warm-up is 5 % of the run here, as
 *   the official 10k of 1M steps would never end on a laptop run).
 * - Pixel loss L2 (1d-tokenizer and MAGVIT-v2; Open-MAGVIT2 uses L1: `pixelLoss: 'l1'`), weight 1.
 * - Quantizer loss weight 1 on what the quantizer returns (`quantizerLoss`).
 * - GAN (when `gan` is given): 1d-tokenizer's stage-2 numbers (hinge, generator weight 0.01, LeCam 0.001,
 *   discriminator AdamW lr 1e-4, betas (0.9, 0.999)), the start step 20 % into the run unless given
 *   (the official 20k of 500k steps is 4 %: on short runs the reconstruction needs longer first).
 * - Fine-tuning: lr 1e-5 (a tenth of training from scratch), no warm-up beyond 5 %, decoder only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, ShapeError, formatShape, type TokenizerForward, type TrainableTokenizer } from '@vtok/core';
import type { Augment, ImageBatch } from '../data/batches';
import type { Dataset, ImageExample } from '../data/dataset';
import { hingeDiscriminatorLoss, hingeGeneratorLoss, nonSaturatingGeneratorLoss } from '../losses/adversarial';
import { LeCam } from '../losses/lecam';
import type { PerceptualLoss } from '../losses/perceptual';
import { quantizerLoss, type QuantizerLossWeights } from '../losses/quantizer';
import { l1Loss, l2Loss } from '../losses/reconstruction';
import { psnr } from '../metrics';
import { Trainer, type FitResult, type LossResult, type TrainPhase } from '../trainer';
import { adamwOf, dataOf, fitOptionsOf, phaseSettings, scheduleOf, type OptimizerSettings, type ParameterSelection, type RunOptions } from './common';

/**
 * A trainable tokenizer whose weights live in a Module: the tokenizer itself (TiTok, the MaskGIT-VQGAN)
 * or its `model` (MAGVIT-v2's tokenizer wraps its network).
 */
export type TrainableTokenizerModule = TrainableTokenizer & (Module | { readonly model: Module });

/** The Module that holds a trainable tokenizer's weights (see TrainableTokenizerModule). */
export function weightsModuleOf(tokenizer: TrainableTokenizerModule, who: string): Module {
  if (typeof (tokenizer as Partial<TrainableTokenizer>)?.forward !== 'function') {
    throw new ConfigError(`${who}: the tokenizer must implement core's TrainableTokenizer (forward(images, { training })); got ${tokenizer?.constructor?.name ?? typeof tokenizer}`);
  }
  if (tokenizer instanceof Module) return tokenizer;
  const model = (tokenizer as { model?: unknown }).model;
  if (model instanceof Module) return model;
  throw new ConfigError(`${who}: the tokenizer's weights must be a Module: the tokenizer itself or its \`model\`; got ${tokenizer?.constructor?.name ?? typeof tokenizer}`);
}

export interface GanSettings {
  /** The discriminator (e.g. `new NLayerDiscriminator({ hiddenChannels: 32, numStages: 2, numGroups: 8, poolSize: 4 })`). */
  discriminator: Module & { forward(images: tf.Tensor): tf.Tensor };
  /** Step from which the discriminator trains and the generator sees it; default 20 % of the run. */
  start?: number;
  /** Generator adversarial weight; default 0.01 (1d-tokenizer). */
  weight?: number;
  /** 'hinge' (1d-tokenizer, default) or 'non-saturating' (Open-MAGVIT2). */
  generatorLoss?: 'hinge' | 'non-saturating';
  /** LeCam weight; default 0.001 (1d-tokenizer); 0 turns it off. */
  lecamWeight?: number;
  /** Discriminator optimiser; default AdamW lr 1e-4, betas (0.9, 0.999), weight decay 1e-4. */
  optimizer?: Pick<OptimizerSettings, 'lr' | 'betas' | 'weightDecay'>;
}

export interface TrainTokenizerOptions extends RunOptions, OptimizerSettings {
  /** Which parameters train: 'all' (default), 'decoder', a name filter, or [name, variable] pairs. */
  train?: ParameterSelection;
  /** 'l2' (default) or 'l1'. */
  pixelLoss?: 'l1' | 'l2';
  pixelWeight?: number;
  /** Weights of the quantizer's losses (see quantizerLoss); `{ scale: 0 }` turns them off. */
  quantizer?: QuantizerLossWeights;
  /** A perceptual loss (LPIPS or your own) and its weight (1d-tokenizer's stage 2: 0.1). */
  perceptual?: { loss: PerceptualLoss; weight?: number; range?: 'unit' | 'signed' };
  gan?: GanSettings;
  /** Per-example augmentation (e.g. randomHorizontalFlip). */
  augment?: Augment<ImageExample>;
}


const WHO = 'trainTokenizer';

/** The images → reconstruction pass with its checks: a reconstruction of the input's shape. */
function reconstructionOf(out: TokenizerForward, images: tf.Tensor, who: string): tf.Tensor {
  if (!out.reconstruction) throw new ConfigError(`${who}: the tokenizer's forward gave no reconstruction (a proxy-code model: train it with trainProxyCodes)`);
  const r = out.reconstruction;
  if (r.shape.join(',') !== images.shape.join(',')) {
    throw new ShapeError(`${who}: the reconstruction has shape ${formatShape(r.shape)}, the images ${formatShape(images.shape)}; train at the tokenizer's own image size`);
  }
  return r;
}

/** Recipe 1: trains `tokenizer` on `data` in one stage. The model's weights change in place. */
export async function trainTokenizer(tokenizer: TrainableTokenizerModule, data: Dataset<ImageExample>, options: TrainTokenizerOptions): Promise<FitResult> {
  const weights = weightsModuleOf(tokenizer, WHO);
  const steps = options.steps;
  const settings = {
    lr: options.lr ?? 1e-4,
    endLr: options.endLr ?? 1e-5,
    schedule: options.schedule ?? 'cosine',
    warmupSteps: options.warmupSteps,
  } as const;
  const pixel = options.pixelLoss ?? 'l2';
  if (pixel !== 'l1' && pixel !== 'l2') throw new ConfigError(`${WHO}: pixelLoss must be 'l1' or 'l2', got ${JSON.stringify(pixel)}`);
  const pixelWeight = options.pixelWeight ?? 1;
  const perceptual = options.perceptual;
  const gan = options.gan;
  const ganStart = gan ? (gan.start ?? Math.round(steps * 0.2)) : Infinity;
  const lecamWeight = gan?.lecamWeight ?? 0.001;
  const lecam = gan && lecamWeight > 0 ? new LeCam() : undefined;
  const toPerceptualRange = (x: tf.Tensor) => (perceptual?.range === 'signed' ? tf.sub(tf.mul(x, 2), 1) : x);

  const model: TrainPhase<ImageBatch> = {
    name: gan ? 'generator' : 'model',
    module: weights,
    ...phaseSettings(weights, options, { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 1e-4 }, WHO),
    loss: (batch, ctx) => {
      const images = batch.images;
      const out = tokenizer.forward(images, { training: true });
      const recon = reconstructionOf(out, images, WHO);
      const pixelTerm = pixel === 'l2' ? l2Loss(recon, images) : l1Loss(recon, images);
      const qTerm = quantizerLoss(out, options.quantizer);
      let loss = tf.add(tf.mul(pixelTerm, pixelWeight), qTerm) as tf.Scalar;
      const logs: Record<string, tf.Tensor | number> = {
        pixel: pixelTerm,
        quantizer: qTerm,
        psnr: tf.mean(psnr(tf.clipByValue(recon, 0, 1), images)),
      };
      if (perceptual) {
        const p = perceptual.loss.compute(toPerceptualRange(recon), toPerceptualRange(images));
        logs.perceptual = p;
        loss = tf.add(loss, tf.mul(p, perceptual.weight ?? 0.1)) as tf.Scalar;
      }
      if (gan) {
        if (ctx.step >= ganStart) {
          const fake = gan.discriminator.forward(recon);
          const g = (gan.generatorLoss ?? 'hinge') === 'hinge' ? hingeGeneratorLoss(fake) : nonSaturatingGeneratorLoss(fake);
          logs.adversarial = g;
          loss = tf.add(loss, tf.mul(g, gan.weight ?? 0.01)) as tf.Scalar;
        }
        ctx.keep('reconstruction', recon);
      }
      return { loss, logs };
    },
  };
  const phases: TrainPhase<ImageBatch>[] = [model];
  if (gan) {
    const d = gan.optimizer ?? {};
    phases.push({
      name: 'discriminator',
      module: gan.discriminator,
      startStep: ganStart,
      optimizer: adamwOf({ lr: d.lr ?? 1e-4, betas: d.betas ?? [0.9, 0.999], weightDecay: d.weightDecay ?? 1e-4 }),
      schedule: scheduleOf({ ...settings, lr: d.lr ?? 1e-4 }, Math.max(1, steps - ganStart)),
      // The generator phase kept its reconstruction: the discriminator sees it without a second pass.
      loss: (batch, ctx): LossResult => {
        const real = gan.discriminator.forward(batch.images);
        const fake = gan.discriminator.forward(ctx.kept('reconstruction'));
        const hinge = hingeDiscriminatorLoss(real, fake);
        if (!lecam) return { loss: hinge, logs: { hinge } };
        const reg = lecam.step(real, fake);
        return { loss: tf.add(hinge, tf.mul(reg, lecamWeight)) as tf.Scalar, logs: { hinge, lecam: reg } };
      },
    });
  }
  const trainer = new Trainer<ImageBatch>({ phases, seed: options.seed ?? 0, state: lecam ? { lecam } : undefined });
  const batchSize = options.batchSize ?? 8;
  try {
    const result = await trainer.fit(dataOf(data, { batchSize, seed: options.seed ?? 0, prefetch: options.prefetch, dropLast: true, augment: options.augment }), fitOptionsOf(options));
    // The official recipes keep the EMA weights as the result.
    trainer.emaOf(model.name)?.copyTo();
    return result;
  } finally {
    trainer.dispose();
    lecam?.dispose();
  }
}

export interface FineTuneOptions extends Omit<TrainTokenizerOptions, 'train'> {
  /** Default 'decoder': the tokens stay as they were, so generators trained on them still pair. */
  train?: ParameterSelection;
}

/**
 * Recipe 3: fine-tunes a (loaded) tokenizer on the user's images: `trainTokenizer` with fine-tuning
 * defaults (decoder only, lr 1e-5, no EMA).
 */
export function fineTuneTokenizer(tokenizer: TrainableTokenizerModule, data: Dataset<ImageExample>, options: FineTuneOptions): Promise<FitResult> {
  return trainTokenizer(tokenizer, data, { lr: 1e-5, endLr: 1e-6, ema: false, ...options, train: options.train ?? 'decoder' });
}
