/**
 * What every recipe shares: the run options (steps, logging, checkpoints, abort) passed through to
 * `Trainer.fit`, the optimiser and schedule numbers with their official defaults, and parameter selection.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Module, assertPositiveInt } from '@vtok/core';
import type { AdamWOptions } from '../adamw';
import { batches, type BatchOptions, type DataPosition } from '../data/batches';
import type { Dataset } from '../data/dataset';
import type { NamedVariables } from '../params';
import { constantWithWarmup, cosineWithWarmup, type LRSchedule } from '../schedules';
import type { FitOptions, TrainData } from '../trainer';

/** The run options every recipe takes (see `FitOptions`); `steps` is required. */
export type RunOptions = Omit<FitOptions, 'steps'> & {
  steps: number;
  /** Examples per batch. */
  batchSize?: number;
  /** Seeds the data order, augmentations, masking and dropout. Default 0. */
  seed?: number;
  /** Batches decoded ahead of the model (default 2). */
  prefetch?: number;
};

export interface OptimizerSettings {
  /** Peak learning rate. */
  lr?: number;
  betas?: [number, number];
  weightDecay?: number;
  /** Linear warm-up steps; default 5 % of the run. */
  warmupSteps?: number;
  /** 'cosine' (official: cosine to endLr) or 'constant' after the warm-up. */
  schedule?: 'cosine' | 'constant';
  endLr?: number;
  /** Global-norm clipping (official 1.0); 0 turns it off. */
  clipGradNorm?: number;
  /** EMA of the weights (official decay 0.999), copied into the model at the end of the run; false: none. */
  ema?: boolean | { decay?: number };
}

/** The schedule of a run of `steps` with the settings' warm-up and decay. */
export function scheduleOf(settings: Required<Pick<OptimizerSettings, 'lr' | 'endLr' | 'schedule'>> & { warmupSteps?: number }, steps: number): LRSchedule {
  const warmupSteps = settings.warmupSteps ?? Math.max(1, Math.round(steps * 0.05));
  if (settings.schedule === 'constant') return constantWithWarmup({ baseLr: settings.lr, warmupSteps });
  if (settings.schedule !== 'cosine') throw new ConfigError(`schedule must be 'cosine' or 'constant', got ${JSON.stringify(settings.schedule)}`);
  return cosineWithWarmup({ baseLr: settings.lr, endLr: Math.min(settings.endLr, settings.lr), warmupSteps: Math.min(warmupSteps, steps), totalSteps: steps });
}

export function adamwOf(settings: Pick<OptimizerSettings, 'lr' | 'betas' | 'weightDecay'>): AdamWOptions {
  return { lr: settings.lr, betas: settings.betas, weightDecay: settings.weightDecay };
}

export function emaOf(setting: OptimizerSettings['ema']): false | { decay: number } {
  if (!setting) return false;
  return { decay: setting === true ? 0.999 : (setting.decay ?? 0.999) };
}

/** Which parameters a recipe trains: all trainable ones, a selection by state-dict name, or given variables. */
export type ParameterSelection = 'all' | 'decoder' | ((name: string) => boolean) | NamedVariables;

/**
 * The names of the parameters that turn tokens into pixels in every vtok tokenizer (official names):
 * the decoder, and TiTok's pixel codebook and pixel decoder. Training only these keeps the tokens as they
 * were, so a generator trained on the tokenizer's tokens still pairs with it.
 */
export const isDecoderParameter = (name: string): boolean => /^(decoder|pixel_decoder|pixel_quantize)\./.test(name);

export function selectParameters(module: Module, selection: ParameterSelection = 'all', who = 'recipe'): NamedVariables {
  if (Array.isArray(selection)) return selection;
  const trainable = [...module.namedParameters()].filter(([, v]) => v.trainable);
  if (selection === 'all') return trainable;
  const keep = selection === 'decoder' ? isDecoderParameter : selection;
  if (typeof keep !== 'function') throw new ConfigError(`${who}: train must be 'all', 'decoder', a name filter or [name, variable] pairs, got ${JSON.stringify(selection)}`);
  const chosen = trainable.filter(([name]) => keep(name));
  if (chosen.length === 0) {
    throw new ConfigError(`${who}: no trainable parameter matches the selection (e.g. ${trainable.slice(0, 4).map(([n]) => `"${n}"`).join(', ')})`);
  }
  return chosen;
}

/** A dataset as the trainer's data function: seeded batches from a saved position. */
export function dataOf<T, B extends { position: DataPosition }>(
  dataset: Dataset<T>,
  options: Omit<BatchOptions<T>, 'start'>,
): TrainData<B> {
  assertPositiveInt(options.batchSize, 'recipe', 'batchSize', ConfigError);
  return (from) => batches(dataset as never, { ...options, start: from as DataPosition | undefined } as never) as unknown as AsyncIterable<B>;
}

/** The fit options of a recipe's run options. */
export function fitOptionsOf(run: RunOptions): FitOptions {
  const { batchSize: _b, seed: _s, prefetch: _p, ...fit } = run;
  return fit;
}

/** Reads a batch's scalar without keeping it (for logs computed outside the tape). */
export const scalarOf = (t: tf.Tensor): number => t.dataSync()[0];

/** A recipe's official numbers, which its options override. */
export interface RecipeDefaults {
  lr: number;
  betas: [number, number];
  weightDecay: number;
  endLr?: number;
  ema?: OptimizerSettings['ema'];
}

/**
 * The optimisation part of a recipe's phase (parameters, AdamW, schedule, clipping, EMA) from the user's
 * options over the recipe's defaults; one place, so every recipe reads the options the same way.
 */
export function phaseSettings(module: Module, options: OptimizerSettings & RunOptions & { train?: ParameterSelection }, defaults: RecipeDefaults, who: string) {
  const lr = options.lr ?? defaults.lr;
  const ema = emaOf(options.ema ?? defaults.ema ?? true);
  return {
    parameters: selectParameters(module, options.train ?? 'all', who),
    optimizer: adamwOf({ lr, betas: options.betas ?? defaults.betas, weightDecay: options.weightDecay ?? defaults.weightDecay }),
    schedule: scheduleOf({ lr, endLr: options.endLr ?? defaults.endLr ?? 1e-5, schedule: options.schedule ?? 'cosine', warmupSteps: options.warmupSteps }, options.steps),
    clipGradNorm: options.clipGradNorm === 0 ? undefined : (options.clipGradNorm ?? 1),
    ema: ema || undefined,
  };
}
