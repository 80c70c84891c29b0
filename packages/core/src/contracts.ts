/**
 * The plugin contracts that connect vtok's packages (DESIGN.md, "Contracts"). They are plain types,
 * versioned by `specificationVersion`, so a package can implement them without depending on another model.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { StepProgressEvent } from './progress';

export type SpecificationVersion = 'v1';

/** What a token tensor looks like, batch excluded: `[32]` for TiTok-L-32, `[16, 16]` for a MAGVIT-v2 image. */
export interface TokenSpace {
  readonly vocabSize: number;
  readonly shape: readonly number[];
}

export interface QuantizeOptions {
  training?: boolean;
}

export interface QuantizeResult {
  /** Quantised vectors, same shape as the input; gradients pass straight through to the input. */
  quantized: tf.Tensor;
  /** Code indices, int32, the input's shape without its last dimension. */
  indices: tf.Tensor;
  /** Named scalar losses (e.g. `commitment`, `codebook`, `aux`); empty when a quantizer has none. */
  losses: Record<string, tf.Scalar>;
}

export interface Quantizer {
  readonly specificationVersion: SpecificationVersion;
  /** Registered name, e.g. 'vq', 'lfq', 'fsq'. */
  readonly type: string;
  readonly codebookSize: number;
  readonly dim: number;
  /** `z` is `[..., dim]`. The caller owns every tensor returned. */
  quantize(z: tf.Tensor, options?: QuantizeOptions): QuantizeResult;
  /** Code vectors for int32 `indices`, shape `[...indices.shape, dim]`. */
  lookup(indices: tf.Tensor): tf.Tensor;
  dispose(): void;
}

export interface Tokenizer {
  readonly specificationVersion: SpecificationVersion;
  readonly tokens: TokenSpace;
  /** Image (or video) shape without batch, e.g. `[256, 256, 3]`. */
  readonly inputShape: readonly number[];
  /** float32 images in [0,1] → int32 tokens `[B, ...tokens.shape]`. */
  encode(images: tf.Tensor): Promise<tf.Tensor>;
  /** int32 tokens → float32 images in [0,1]. */
  decode(tokens: tf.Tensor): Promise<tf.Tensor>;
  dispose(): void;
}

/** One differentiable pass of a tokenizer (what a training loss needs). */
export interface TokenizerForward {
  /** Reconstructed images (or clips), the input's layout, not clamped; absent for proxy-code models (TiTok stage 1). */
  reconstruction?: tf.Tensor;
  /** Proxy-code logits `[B, h, w, codes]` over a 2D teacher's codebook (TiTok stage 1). */
  logits?: tf.Tensor;
  /** int32 token ids `[B, ...tokens.shape]`. */
  indices: tf.Tensor;
  /** The quantizer's losses in training (scalars, named as its QuantizeResult names them). */
  losses: Record<string, tf.Scalar>;
}

/**
 * A tokenizer that can be trained: `forward` runs encoder, quantizer and decoder synchronously (so a
 * gradient tape can record it), without the public calls' value checks.
 */
export interface TrainableTokenizer extends Tokenizer {
  forward(images: tf.Tensor, options?: { training?: boolean }): TokenizerForward;
}

export type GuidanceDecay = 'constant' | 'linear' | 'power-cosine';

export interface SampleOptions {
  /** Class label per sample; its length is the batch size. */
  classes: number[] | Int32Array;
  steps?: number;
  /** A registered masking schedule name, e.g. 'arccos'. */
  schedule?: string;
  guidanceScale?: number;
  guidanceDecay?: GuidanceDecay;
  guidanceScalePow?: number;
  randomizeTemperature?: number;
  softmaxTemperatureAnnealing?: boolean;
  seed?: number;
  onProgress?: (event: StepProgressEvent) => void;
  signal?: AbortSignal;
}

export interface Generator {
  readonly specificationVersion: SpecificationVersion;
  readonly tokens: TokenSpace;
  readonly numClasses: number;
  /** int32 tokens `[B, ...tokens.shape]`. */
  sample(options: SampleOptions): Promise<tf.Tensor>;
  dispose(): void;
}

export interface GeneratorTrainingOptions {
  /** Where every draw (masking, class dropout) comes from; a trainer's checkpointed SeededRandom. */
  random: { next(): number };
  /** Probability of replacing a sample's class by the null class (guidance); default the model's own. */
  classDropout?: number;
  /** Run the model's training-time dropout; default true. */
  training?: boolean;
}

/**
 * A generator that can be trained on tokens: `trainingLoss` applies the model's own objective (MaskGIT:
 * mask a scheduled share of the tokens, drop classes, cross-entropy on the logits) synchronously, so a
 * gradient tape records it. `logs` are extra scalars to report (e.g. the accuracy on masked tokens).
 */
export interface TrainableGenerator extends Generator {
  trainingLoss(tokens: tf.Tensor, classes: tf.Tensor, options: GeneratorTrainingOptions): { loss: tf.Scalar; logs?: Record<string, tf.Scalar> };
}

export type BackendAvailability =
  | {
      ok: true;
      /**
       * Set when the backend works only through a software emulation (e.g. WebGPU on SwiftShader): it is
       * correct but slower than a CPU backend, so automatic selection takes it only when nothing else works.
       */
      softwareOnly?: string;
    }
  | { ok: false; reason: string; install?: string };

/** What actually runs after selection, and why each backend tried before it was not taken. */
export interface BackendInfo {
  /** vtok's name of the backend that runs ('cpu', 'wasm', 'webgpu', 'cuda'). */
  readonly name: string;
  /** tfjs's name of it ('tensorflow' for cuda). */
  readonly tfBackend: string;
  /** The device in words: adapter name, CPU features, GPU. */
  readonly device: string;
  readonly features: readonly string[];
  /** One entry per backend tried before this one. */
  readonly reasonsOthersFailed: readonly { name: string; reason: string }[];
}

export interface Backend {
  readonly specificationVersion: SpecificationVersion;
  readonly name: string;
  isAvailable(): Promise<BackendAvailability>;
  /** Registers and selects the tfjs backend; throws BackendUnavailableError when it cannot. */
  activate(): Promise<Omit<BackendInfo, 'reasonsOthersFailed'>>;
}
