/**
 * A small CNN that reads 32×32 digits, built from @vtok/core's layers and trained with @vtok/trainers'
 * Trainer. It is the judge of the generated digits: the share of samples it reads as the requested class.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Conv2d, Linear, Module, SeededRandom, ShapeError, formatShape, saveModel } from '@vtok/core';
import { Trainer, batches, cosineWithWarmup, type Dataset, type FitResult, type ImageBatch, type ImageExample, type RunOptions } from '@vtok/trainers';

export interface ClassifierConfig {
  /** Input side (square images). */
  imageSize: number;
  channels: number;
  /** Channels of the two stride-2 convolutions. */
  widths: [number, number];
  hidden: number;
  numClasses: number;
}

export const DEFAULT_CLASSIFIER: ClassifierConfig = { imageSize: 32, channels: 3, widths: [16, 32], hidden: 64, numClasses: 10 };

/** conv 3×3 /2 → ReLU → conv 3×3 /2 → ReLU → linear → ReLU → linear: [B, 32, 32, C] → logits [B, classes]. */
export class DigitClassifier extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly flat: number;

  constructor(readonly config: ClassifierConfig = DEFAULT_CLASSIFIER, seed = 0) {
    super();
    const { imageSize, channels, widths, hidden, numClasses } = config;
    if (!Number.isInteger(imageSize) || imageSize < 4 || imageSize % 4 !== 0) throw new ConfigError(`DigitClassifier: imageSize must be a multiple of 4 (two stride-2 convolutions), got ${imageSize}`);
    const rng = new SeededRandom(seed);
    this.conv1 = this.addModule('conv1', new Conv2d(channels, widths[0], 3, { stride: 2, padding: 1, rng }));
    this.conv2 = this.addModule('conv2', new Conv2d(widths[0], widths[1], 3, { stride: 2, padding: 1, rng }));
    this.flat = (imageSize / 4) ** 2 * widths[1];
    this.fc1 = this.addModule('fc1', new Linear(this.flat, hidden, { rng }));
    this.fc2 = this.addModule('fc2', new Linear(hidden, numClasses, { rng }));
  }

  forward(images: tf.Tensor): tf.Tensor2D {
    const { imageSize, channels } = this.config;
    if (images.rank !== 4 || images.shape[1] !== imageSize || images.shape[2] !== imageSize || images.shape[3] !== channels) {
      throw new ShapeError(`DigitClassifier: expected images [B, ${imageSize}, ${imageSize}, ${channels}], got ${formatShape(images.shape)}`);
    }
    return tf.tidy(() => {
      const h = tf.relu(this.conv2.forward(tf.relu(this.conv1.forward(images))));
      return this.fc2.forward(tf.relu(this.fc1.forward(tf.reshape(h, [-1, this.flat])))) as tf.Tensor2D;
    });
  }

  /** The most likely class of each image. */
  async predict(images: tf.Tensor): Promise<Int32Array> {
    const ids = tf.tidy(() => tf.argMax(this.forward(images), -1));
    try {
      return (await ids.data()) as Int32Array;
    } finally {
      ids.dispose();
    }
  }
}

export interface TrainClassifierOptions extends RunOptions {
  /** Peak learning rate of the cosine schedule (default 2e-3). */
  lr?: number;
}

/** Trains the classifier with softmax cross-entropy on labelled images; the weights change in place. */
export async function trainClassifier(model: DigitClassifier, data: Dataset<ImageExample>, options: TrainClassifierOptions): Promise<FitResult> {
  const { batchSize = 32, seed = 0, lr = 2e-3, prefetch, ...fit } = options;
  const numClasses = model.config.numClasses;
  const trainer = new Trainer<ImageBatch>({
    seed,
    phases: [
      {
        name: 'model',
        module: model,
        optimizer: { lr, weightDecay: 1e-4 },
        schedule: cosineWithWarmup({ baseLr: lr, endLr: lr / 20, warmupSteps: Math.max(1, Math.round(fit.steps * 0.05)), totalSteps: fit.steps }),
        loss: (batch) => {
          if (!batch.labels) throw new ConfigError('trainClassifier: the dataset has no labels');
          const logits = model.forward(batch.images);
          const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(batch.labels, numClasses), logits) as tf.Scalar;
          return { loss, logs: { accuracy: tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), batch.labels), 'float32')) } };
        },
      },
    ],
  });
  try {
    return await trainer.fit((from) => batches(data, { batchSize, seed, prefetch, dropLast: true, start: from as never }), fit);
  } finally {
    trainer.dispose();
  }
}

/** Share of `images` (float32 [N, H, W, C]) classified as `labels`, computed in batches. */
export async function accuracyOf(model: DigitClassifier, images: tf.Tensor4D, labels: ArrayLike<number>, batchSize = 256): Promise<{ accuracy: number; predictions: Int32Array }> {
  const n = images.shape[0];
  if (labels.length !== n) throw new ShapeError(`accuracyOf: ${n} images but ${labels.length} labels`);
  const predictions = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const part = tf.slice(images, [start, 0, 0, 0], [Math.min(batchSize, n - start), -1, -1, -1]);
    predictions.set(await model.predict(part).finally(() => part.dispose()), start);
  }
  let right = 0;
  for (let i = 0; i < n; i++) right += predictions[i] === labels[i] ? 1 : 0;
  return { accuracy: right / n, predictions };
}

/** Saves the classifier as core's model folder (config.json + model.safetensors). */
export async function saveClassifier(model: DigitClassifier, folder: string): Promise<void> {
  await saveModel(folder, { config: { architecture: 'vtok-example-digit-classifier', ...model.config }, tensors: model.stateDict() });
}
