/**
 * What both official generators share: the vocabulary layout, the condition token, `logits()` (the
 * forward pass trainers and the sampler use) and `sample()`. Subclasses supply the transformer over the
 * `[condition, L image tokens]` sequence. The generator is defined over a TokenSpace, so a 2D token grid
 * (e.g. MAGVIT-v2's 16×16) is the same class with `tokenShape: [16, 16]`, flattened row-major inside.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type GeneratorTrainingOptions, Module, SeededRandom, ShapeError, type TokenSpace, type TrainableGenerator, ValueError, assertBatchShape, assertDtype, formatShape } from '@vtok/core';
import {
  type MaskGITConfig,
  type MaskGITConfigInput,
  type MaskGITVocabulary,
  maskgitVocabulary,
  resolveMaskGITConfig,
  sequenceLength,
} from './config';
import type { JsonObject } from './official-config';
import { type MaskGITSampleOptions, checkClassLabels, resolveSampleSettings, sampleTokens } from './sample';
import { dropClasses, maskTokens, mlmLoss } from './training';

/** Class labels: an array (checked against numClasses) or an int32 tensor [B] (not read back, so not range-checked). */
export type ClassLabels = readonly number[] | Int32Array | tf.Tensor;

export interface LogitsOptions {
  /**
   * Replace the class by the null class: true for every sample (the unconditional logits of guidance,
   * the official `cond_drop_prob=1`), or one flag per sample (class dropout while training). Default false.
   */
  dropCondition?: boolean | readonly boolean[] | Uint8Array;
  /** Run with the training-time dropout of the config (the BERT generator; UViT has none). Default false. */
  training?: boolean;
}

export interface MaskGITModelOptions {
  /** Seed of the initial weights (drawn on the CPU, so the same on every backend). Default: random. */
  seed?: number;
  /**
   * 'official' (default): N(0, 0.02²) weights, zero biases, as the official code initialises a fresh
   * generator. 'none': keep the layers' own PyTorch-default init (cheaper; for weights about to be loaded).
   */
  init?: 'official' | 'none';
}

export abstract class MaskGITGenerator extends Module implements TrainableGenerator {
  readonly specificationVersion = 'v1' as const;
  readonly config: MaskGITConfig;
  /** The tokenizer-facing token space: vocabulary K (image codes only) and the token shape. */
  readonly tokens: TokenSpace;
  readonly numClasses: number;
  readonly vocabulary: MaskGITVocabulary;
  /** L, the number of image tokens. */
  readonly sequenceLength: number;
  /** The official config this model was loaded with, if any; `saveMaskGIT` writes it back updated. */
  sourceConfig?: JsonObject;

  protected constructor(config: MaskGITConfigInput) {
    super();
    this.config = resolveMaskGITConfig(config);
    this.numClasses = this.config.numClasses;
    this.vocabulary = maskgitVocabulary(this.config.codebookSize, this.config.numClasses);
    this.sequenceLength = sequenceLength(this.config);
    this.tokens = Object.freeze({ vocabSize: this.config.codebookSize, shape: Object.freeze([...this.config.tokenShape]) });
  }

  protected static initRng(options: MaskGITModelOptions): SeededRandom {
    return new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /**
   * The transformer over a full sequence: int32 [B, L+1] ids in the generator's vocabulary (condition
   * token first, then L image tokens or the mask id) → float32 logits [B, L, K] for the image positions.
   */
  abstract forwardSequence(inputIds: tf.Tensor, training?: boolean): tf.Tensor;

  /** Checks an input sequence for forwardSequence. */
  protected checkSequence(inputIds: tf.Tensor): void {
    assertDtype(inputIds, 'int32', 'MaskGIT', 'input ids');
    if (inputIds.rank !== 2 || inputIds.shape[1] !== this.sequenceLength + 1) {
      throw new ShapeError(`MaskGIT input ids must have shape [B, ${this.sequenceLength + 1}] (condition token + ${this.sequenceLength} image tokens), got ${formatShape(inputIds.shape)}`);
    }
  }

  /**
   * The forward pass of the official `forward(input_ids, condition, cond_drop_prob)`: tokens int32
   * [B, ...tokenShape] (or [B, L]) with image codes in [0, K) and the mask id K, one class per sample →
   * logits [B, L, K] over the image codes. The caller owns the result; nothing else stays allocated.
   */
  logits(tokens: tf.Tensor, classes: ClassLabels, options: LogitsOptions = {}): tf.Tensor {
    assertDtype(tokens, 'int32', 'MaskGIT', 'tokens');
    const shape = this.config.tokenShape;
    const batch = assertBatchShape(tokens, shape, 'MaskGIT', 'tokens', { alternatives: shape.length > 1 ? [[this.sequenceLength]] : [] });
    const drop = dropFlags(options.dropCondition, batch);
    return tf.tidy(() => {
      const condition = this.conditionTokens(classes, drop, batch);
      const sequence = tf.concat([condition, tf.reshape(tokens, [batch, this.sequenceLength])], 1);
      return this.forwardSequence(sequence, options.training ?? false);
    });
  }

  /** [B, 1] int32: class c → K+1+c, dropped → the null class K+1+numClasses. */
  private conditionTokens(classes: ClassLabels, drop: Uint8Array, batch: number): tf.Tensor {
    const { classOffset, nullClassId } = this.vocabulary;
    if (classes instanceof tf.Tensor) {
      assertDtype(classes, 'int32', 'MaskGIT', 'classes');
      if (classes.rank !== 1 || classes.shape[0] !== batch) {
        throw new ShapeError(`MaskGIT classes must have shape [${batch}] (one per sample), got ${formatShape(classes.shape)}`);
      }
      return tf.tidy(() => {
        const shifted = tf.add(classes, tf.scalar(classOffset, 'int32'));
        const dropped = tf.tensor1d(drop, 'bool');
        return tf.reshape(tf.where(dropped, tf.fill([batch], nullClassId, 'int32'), shifted), [batch, 1]);
      });
    }
    const labels = checkClassLabels(classes, this.numClasses);
    if (labels.length !== batch) throw new ShapeError(`MaskGIT got ${labels.length} class labels for ${batch} token sequences`);
    const ids = new Int32Array(batch);
    for (let i = 0; i < batch; i++) ids[i] = drop[i] ? nullClassId : classOffset + labels[i];
    return tf.tensor2d(ids, [batch, 1], 'int32');
  }

  /**
   * The official training objective of one batch (core's TrainableGenerator): mask a scheduled share of
   * the tokens (arccos), drop classes with `classDropout` (default the config's class_label_dropout),
   * logits, then the MLM loss with label smoothing 0.1 and weight 0.1 on unmasked positions. Synchronous,
   * for a gradient tape; every draw comes from `options.random`. Logs the accuracy on masked tokens.
   */
  trainingLoss(tokens: tf.Tensor, classes: tf.Tensor, options: GeneratorTrainingOptions): { loss: tf.Scalar; logs: Record<string, tf.Scalar> } {
    if (!options?.random || typeof options.random.next !== 'function') throw new ValueError('MaskGIT.trainingLoss: options.random must be a source of uniform numbers ({ next(): number }), e.g. a SeededRandom');
    const batch = tokens.shape[0] ?? 0;
    const { masked, mask } = maskTokens(tokens, { maskId: this.vocabulary.maskId, random: options.random });
    try {
      const drop = dropClasses(batch, options.classDropout ?? this.config.classLabelDropout, options.random);
      const logits = this.logits(masked, classes, { dropCondition: drop, training: options.training ?? true });
      const { loss, correctTokens } = mlmLoss(logits, tokens, mask);
      logits.dispose();
      return { loss, logs: { accuracy: correctTokens } };
    } finally {
      tf.dispose([masked, mask]);
    }
  }

  /**
   * Samples tokens as the official `generate()`; options not given take the config's sampling
   * defaults. Returns int32 [B, ...tokenShape]; every intermediate tensor is freed, also on abort or error.
   */
  async sample(options: MaskGITSampleOptions): Promise<tf.Tensor> {
    const settings = resolveSampleSettings(options, this.config.sampling, this.numClasses);
    const ids = await sampleTokens(this, settings, options);
    return tf.tensor(ids, [settings.classes.length, ...this.config.tokenShape], 'int32');
  }
}

/** The modelType a class builds; a config naming the other one is an error, not silently rebuilt. */
export function checkModelType(config: MaskGITConfigInput, expected: MaskGITConfig['modelType'], className: string): MaskGITConfig['modelType'] {
  if (config && config.modelType !== undefined && config.modelType !== expected) {
    throw new ConfigError(`${className} builds modelType '${expected}', but the config says '${config.modelType}' (use createMaskGIT to pick the class from the config)`);
  }
  return expected;
}

function dropFlags(drop: LogitsOptions['dropCondition'], batch: number): Uint8Array {
  if (drop === undefined || typeof drop === 'boolean') return new Uint8Array(batch).fill(drop ? 1 : 0);
  if (!Array.isArray(drop) && !(drop instanceof Uint8Array)) {
    throw new ValueError(`dropCondition must be a boolean or one flag per sample, got ${String(drop)}`);
  }
  if (drop.length !== batch) throw new ShapeError(`dropCondition has ${drop.length} flags for a batch of ${batch}`);
  return Uint8Array.from(drop, (v) => (v ? 1 : 0));
}
