/**
 * Fine-tuning a zoo tokenizer on your own images: digits-vqgan's decoder trained on a folder with
 * fineTuneTokenizer, judged by the PSNR of images held out of the training, before and after. Only the
 * decoder trains, so every image keeps its tokens (and digits-maskgit, trained on them, still pairs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { saveMaskGitVqgan, type MaskGitVqgan } from '@vtok/titok';
import { batches, fineTuneTokenizer, imageFolder, psnr, type Dataset, type ImageExample, type LogRecord } from '@vtok/trainers';
import { loadPretrained } from '@vtok/zoo';

export interface TrainYourOwnOptions {
  /** A folder of JPEG/PNG/WebP images (resized and centre-cropped to 32×32). */
  images: string;
  /** Where the fine-tuned tokenizer is saved (config.json + model.safetensors). */
  out: string;
  /** Default 200. */
  steps?: number;
  /** Default 8. */
  batchSize?: number;
  /** Peak learning rate (cosine to a tenth of it); default 1e-3. */
  lr?: number;
  /** Images held out of training for the PSNR, the folder's last ones by name; default an eighth, at least 1. */
  heldOut?: number;
  log?: (line: string) => void;
}

export interface TrainYourOwnResult {
  trainImages: number;
  heldOutImages: number;
  /** Mean PSNR of the held-out images through the tokenizer, dB. */
  psnrBefore: number;
  psnrAfter: number;
  /** Whether every held-out image still has the tokens it had before fine-tuning. */
  tokensUnchanged: boolean;
  steps: number;
  seconds: number;
}

/** Images `from` to `to` (exclusive) of a dataset, as a dataset. */
const slice = <T>(data: Dataset<T>, from: number, to: number): Dataset<T> => ({ length: to - from, get: (i) => data.get(from + i) });

/** The whole dataset as one tensor [N, H, W, C], in its order. */
async function stacked(data: Dataset<ImageExample>): Promise<tf.Tensor4D> {
  for await (const batch of batches(data, { batchSize: data.length, shuffle: false, epochs: 1, prefetch: 0 })) {
    batch.labels?.dispose();
    return batch.images;
  }
  throw new Error('unreachable: a non-empty dataset gives one batch');
}

/** Mean PSNR of images through the tokenizer, and their tokens (the caller disposes them). */
async function reconstruct(tokenizer: MaskGitVqgan, images: tf.Tensor4D): Promise<{ psnr: number; tokens: tf.Tensor }> {
  const tokens = await tokenizer.encode(images);
  const decoded = await tokenizer.decode(tokens);
  const mean = tf.tidy(() => tf.mean(psnr(decoded, images)));
  const value = (await mean.data())[0];
  tf.dispose([decoded, mean]);
  return { psnr: value, tokens };
}

export async function trainYourOwn(options: TrainYourOwnOptions): Promise<TrainYourOwnResult> {
  const log = options.log ?? console.log;
  const folder = await imageFolder(options.images, { size: 32, channels: 3 });
  const heldOut = options.heldOut ?? Math.max(1, Math.floor(folder.length / 8));
  if (folder.length - heldOut < 1) throw new RangeError(`${options.images} holds ${folder.length} images: too few to hold ${heldOut} out and train on the rest`);
  const train = slice(folder, 0, folder.length - heldOut);
  const steps = options.steps ?? 200;
  const batchSize = Math.min(options.batchSize ?? 8, train.length);

  const tokenizer = await loadPretrained('digits-vqgan');
  const held = await stacked(slice(folder, train.length, folder.length));
  const kept: tf.Tensor[] = [held];
  try {
    const before = await reconstruct(tokenizer, held);
    kept.push(before.tokens);
    log(`${folder.length} images: ${train.length} to train on, ${heldOut} held out; held-out PSNR before: ${before.psnr.toFixed(2)} dB`);

    const started = performance.now();
    const lr = options.lr ?? 1e-3;
    const run = await fineTuneTokenizer(tokenizer, train, {
      steps,
      batchSize,
      lr,
      endLr: lr / 10,
      logEvery: Math.max(1, Math.floor(steps / 10)),
      onLog: (r: LogRecord) => log(`  step ${r.step}/${steps}: loss ${r.loss.toFixed(4)}, psnr ${r.psnr.toFixed(2)} dB (training batch)`),
    });
    const seconds = Math.round((performance.now() - started) / 100) / 10;

    const after = await reconstruct(tokenizer, held);
    kept.push(after.tokens);
    const same = tf.tidy(() => tf.all(tf.equal(before.tokens, after.tokens)));
    const tokensUnchanged = (await same.data())[0] === 1;
    same.dispose();
    log(`held-out PSNR after ${run.step} steps (${seconds} s): ${after.psnr.toFixed(2)} dB (${after.psnr >= before.psnr ? '+' : ''}${(after.psnr - before.psnr).toFixed(2)} dB); tokens ${tokensUnchanged ? 'unchanged' : 'CHANGED'}`);

    await saveMaskGitVqgan(tokenizer, options.out);
    log(`saved the fine-tuned tokenizer to ${options.out}`);
    return { trainImages: train.length, heldOutImages: heldOut, psnrBefore: before.psnr, psnrAfter: after.psnr, tokensUnchanged, steps: run.step, seconds };
  } finally {
    tf.dispose(kept);
    tokenizer.dispose();
  }
}
