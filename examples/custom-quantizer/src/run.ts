/**
 * The example end to end: create the residual VQ through the registry, put it in the patch tokenizer,
 * train a few steps on synthetic images, then encode to tokens and decode back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, createQuantizer } from '@vtok/core';
import { PatchTokenizer } from './patch-tokenizer';
// Registers 'residual-vq'. A side-effect import on purpose: an import used only for types is dropped by
// TypeScript and bundlers, and the registration with it.
import './residual-vq';
import type { ResidualVQ } from './residual-vq';

export interface ExampleOptions {
  steps?: number;
  batch?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ExampleReport {
  vocabSize: number;
  tokenShape: number[];
  stateDictKeys: string[];
  lossHistory: number[];
  tokensOfFirstImage: number[];
  /** Mean squared error of decode(encode(images)) before and after training. */
  errorBefore: number;
  errorAfter: number;
  /** Mean squared error of the training path (straight-through) on the same images after training. */
  trainingPathError: number;
  codesUsedPerStage: number[];
}

/** Images that a patch tokenizer can learn: two colours blended along a direction, plus a bright square. */
export function syntheticImages(rng: SeededRandom, batch: number, size: number): tf.Tensor4D {
  const data = new Float32Array(batch * size * size * 3);
  for (let b = 0; b < batch; b++) {
    const c0 = [rng.next(), rng.next(), rng.next()];
    const c1 = [rng.next(), rng.next(), rng.next()];
    const angle = rng.next() * 2 * Math.PI;
    const [sx, sy] = [Math.floor(rng.next() * size * 0.6), Math.floor(rng.next() * size * 0.6)];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const t = 0.5 + 0.5 * Math.sin(angle) * (x / size - 0.5) + 0.5 * Math.cos(angle) * (y / size - 0.5);
        const inSquare = x >= sx && x < sx + size / 4 && y >= sy && y < sy + size / 4;
        for (let c = 0; c < 3; c++) data[((b * size + y) * size + x) * 3 + c] = inSquare ? 0.95 : c0[c] * (1 - t) + c1[c] * t;
      }
  }
  return tf.tensor4d(data, [batch, size, size, 3]);
}

async function roundTripError(tokenizer: PatchTokenizer, images: tf.Tensor): Promise<{ error: number; tokens: tf.Tensor }> {
  const tokens = await tokenizer.encode(images);
  const decoded = await tokenizer.decode(tokens);
  const mse = tf.tidy(() => tf.mean(tf.squaredDifference(decoded, images)));
  const error = (await mse.data())[0];
  tf.dispose([decoded, mse]);
  return { error, tokens };
}

export async function runExample({ steps = 60, batch = 8, seed = 0, log = () => {} }: ExampleOptions = {}): Promise<ExampleReport> {
  // Type-checked against ResidualVQConfig through declaration merging.
  const quantizer = createQuantizer({ type: 'residual-vq', dim: 8, stageCodebookSize: 16, numStages: 3, seed }) as ResidualVQ;
  const tokenizer = new PatchTokenizer({ imageSize: 16, patchSize: 4, quantizer, seed });
  const rng = new SeededRandom(seed + 1);
  const images = syntheticImages(rng, batch, 16);
  log(`residual VQ: ${quantizer.stages.length} stages x ${quantizer.stageCodebookSize} codes = ${quantizer.codebookSize} tokens`);
  log(`tokenizer: images [${tokenizer.inputShape}] -> tokens [${tokenizer.tokens.shape}] of ${tokenizer.tokens.vocabSize}`);

  const before = await roundTripError(tokenizer, images);
  before.tokens.dispose();

  const optimizer = tf.train.adam(0.01);
  const lossHistory: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = optimizer.minimize(() => {
      const r = tokenizer.reconstruct(images, { training: true });
      r.images.dispose();
      return tf.add(r.losses.reconstruction, r.losses.total) as tf.Scalar;
    }, true, tokenizer.trainableVariables()) as tf.Scalar;
    lossHistory.push((await loss.data())[0]);
    loss.dispose();
    if (step % 20 === 0 || step === steps - 1) log(`step ${step}: loss ${lossHistory[step].toFixed(4)}`);
  }
  optimizer.dispose();

  const after = await roundTripError(tokenizer, images);
  const trained = tokenizer.reconstruct(images);
  const trainingPathError = (await trained.losses.reconstruction.data())[0];
  tf.dispose([trained.images, ...Object.values(trained.losses)]);
  const perImage = tokenizer.tokens.shape.reduce((a, b) => a * b, 1);
  const tokensOfFirstImage = Array.from((await after.tokens.data()).slice(0, perImage));
  after.tokens.dispose();
  log(`decode(encode(images)) mean squared error: ${before.error.toFixed(4)} before training, ${after.error.toFixed(4)} after`);
  log(`tokens of image 0: ${tokensOfFirstImage.join(' ')}`);

  const codesUsedPerStage: number[] = [];
  for (const stage of quantizer.stages) codesUsedPerStage.push((await stage.usageStatistics()).usedCodes);
  log(`codes used per stage: ${codesUsedPerStage.join(', ')} of ${quantizer.stageCodebookSize}`);

  const report: ExampleReport = {
    vocabSize: tokenizer.tokens.vocabSize,
    tokenShape: [...tokenizer.tokens.shape],
    stateDictKeys: Object.keys(tokenizer.stateDict()),
    lossHistory,
    tokensOfFirstImage,
    errorBefore: before.error,
    errorAfter: after.error,
    trainingPathError,
    codesUsedPerStage,
  };
  images.dispose();
  tokenizer.dispose();
  return report;
}
