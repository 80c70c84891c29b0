/**
 * The metrics training logs and the CLI report: PSNR and SSIM of reconstructions (per image), and codebook
 * usage, perplexity and token entropy of token ids.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, ShapeError, ValueError, assertDtype, assertFiniteNumber, assertPositiveInt, assertTensor, formatShape } from '@vtok/core';

function checkPair(x: unknown, y: unknown, who: string): asserts x is tf.Tensor4D {
  assertTensor(x, who, 'images');
  assertTensor(y, who, 'reference images');
  assertDtype(x, 'float32', who, 'images');
  assertDtype(y, 'float32', who, 'reference images');
  if (x.rank !== 4) throw new ShapeError(`${who}: expected images of rank 4 [B, H, W, C], got shape ${formatShape(x.shape)}`);
  if (x.rank !== y.rank || x.shape.some((d, i) => d !== y.shape[i])) {
    throw new ShapeError(`${who}: images and reference images must have the same shape, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`);
  }
  if (x.shape[0] < 1 || x.size === 0) throw new ShapeError(`${who}: expected at least one non-empty image, got shape ${formatShape(x.shape)}`);
}

export interface PSNROptions {
  /** The range of the pixel values (max − min); default 1 (images in [0, 1], the API convention). */
  dataRange?: number;
}

/**
 * Peak signal-to-noise ratio per image, in dB: 10·log10(dataRange² / MSE), the MSE over all pixels and
 * channels of the image (skimage's `peak_signal_noise_ratio` per image). Images [B, H, W, C] float32,
 * values expected in [0, dataRange] (not checked: no read-back). Returns [B]; identical images give Infinity.
 */
export function psnr(images: tf.Tensor, reference: tf.Tensor, options: PSNROptions = {}): tf.Tensor1D {
  const who = 'psnr';
  checkPair(images, reference, who);
  const { dataRange = 1 } = options;
  assertFiniteNumber(dataRange, who, 'dataRange', { min: 0, exclusive: true });
  return tf.tidy(() => {
    const mse = tf.mean(tf.squaredDifference(images, reference), [1, 2, 3]);
    return tf.mul(tf.scalar(10 / Math.LN10), tf.log(tf.div(tf.scalar(dataRange * dataRange), mse))) as tf.Tensor1D;
  });
}

export interface SSIMOptions {
  /** Default 1 (images in [0, 1]). */
  dataRange?: number;
  /** Side of the Gaussian window; default 11. */
  windowSize?: number;
  /** σ of the Gaussian window; default 1.5. */
  sigma?: number;
  /** Default 0.01. */
  k1?: number;
  /** Default 0.03. */
  k2?: number;
}

/** The normalised 1D Gaussian of `size` taps centred on the middle one. */
export function gaussianWindow(size: number, sigma: number): Float32Array {
  const c = (size - 1) / 2;
  const w = Array.from({ length: size }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  const s = w.reduce((a, b) => a + b, 0);
  return Float32Array.from(w, (v) => v / s);
}

/**
 * Structural similarity per image, the Wang et al. formulation as skimage computes it with
 * `gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1` and as pytorch-msssim's
 * `ssim` does: local means, variances and covariance under an 11×11 Gaussian window (σ = 1.5), over the
 * positions where the window fits inside the image ("valid"; skimage filters the whole image and crops that
 * border), C1 = (K1·L)², C2 = (K2·L)², the SSIM map averaged over positions and channels.
 * Images [B, H, W, C] float32 with H, W >= windowSize. Returns [B].
 */
export function ssim(images: tf.Tensor, reference: tf.Tensor, options: SSIMOptions = {}): tf.Tensor1D {
  const who = 'ssim';
  checkPair(images, reference, who);
  const { dataRange = 1, windowSize = 11, sigma = 1.5, k1 = 0.01, k2 = 0.03 } = options;
  assertFiniteNumber(dataRange, who, 'dataRange', { min: 0, exclusive: true });
  assertPositiveInt(windowSize, who, 'windowSize');
  if (windowSize % 2 === 0) throw new ValueError(`${who}: windowSize must be odd, got ${windowSize}`);
  assertFiniteNumber(sigma, who, 'sigma', { min: 0, exclusive: true });
  assertFiniteNumber(k1, who, 'k1', { min: 0 });
  assertFiniteNumber(k2, who, 'k2', { min: 0 });
  const [, H, W, C] = images.shape;
  if (H < windowSize || W < windowSize) {
    throw new ShapeError(`${who}: images must be at least ${windowSize}×${windowSize} (the window), got ${H}×${W} in ${formatShape(images.shape)}`);
  }
  const g = gaussianWindow(windowSize, sigma);
  const c1 = (k1 * dataRange) ** 2;
  const c2 = (k2 * dataRange) ** 2;
  return tf.tidy(() => {
    const taps = Float32Array.from({ length: windowSize * C }, (_, i) => g[Math.floor(i / C)]);
    const kx = tf.tensor4d(taps, [1, windowSize, C, 1]);
    const ky = tf.tensor4d(taps, [windowSize, 1, C, 1]);
    const filter = (t: tf.Tensor4D) => tf.depthwiseConv2d(tf.depthwiseConv2d(t, kx, 1, 'valid'), ky, 1, 'valid');
    const x = images as tf.Tensor4D;
    const y = reference as tf.Tensor4D;
    const mx = filter(x);
    const my = filter(y);
    const mxx = tf.mul(mx, mx);
    const myy = tf.mul(my, my);
    const mxy = tf.mul(mx, my);
    const vx = tf.sub(filter(tf.mul(x, x)), mxx);
    const vy = tf.sub(filter(tf.mul(y, y)), myy);
    const cxy = tf.sub(filter(tf.mul(x, y)), mxy);
    const num = tf.mul(tf.add(tf.mul(mxy, tf.scalar(2)), tf.scalar(c1)), tf.add(tf.mul(cxy, tf.scalar(2)), tf.scalar(c2)));
    const den = tf.mul(tf.add(tf.add(mxx, myy), tf.scalar(c1)), tf.add(tf.add(vx, vy), tf.scalar(c2)));
    return tf.mean(tf.div(num, den), [1, 2, 3]) as tf.Tensor1D;
  });
}

/** What a set of token ids says about the codebook. */
export interface CodebookStats {
  codebookSize: number;
  /** How many ids were counted. */
  tokens: number;
  /** How many distinct codes occur. */
  usedCodes: number;
  /** usedCodes / codebookSize, in [0, 1]. */
  usage: number;
  /** Entropy of the empirical code distribution in nats: −Σ p·ln p. */
  entropy: number;
  /** The same entropy in bits (log2); at most log2(codebookSize). */
  entropyBits: number;
  /** exp(entropy): the effective number of codes, from 1 to usedCodes. */
  perplexity: number;
}

/** Statistics of a histogram of code counts (a plain array, e.g. from `CodebookUsage`). */
export function codebookStatsOfCounts(counts: ArrayLike<number>): CodebookStats {
  let tokens = 0;
  let usedCodes = 0;
  for (let i = 0; i < counts.length; i++) {
    tokens += counts[i];
    if (counts[i] > 0) usedCodes += 1;
  }
  let entropy = 0;
  if (tokens > 0) {
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        const p = counts[i] / tokens;
        entropy -= p * Math.log(p);
      }
    }
  }
  entropy = Math.max(0, entropy);
  return { codebookSize: counts.length, tokens, usedCodes, usage: usedCodes / counts.length, entropy, entropyBits: entropy / Math.LN2, perplexity: Math.exp(entropy) };
}

/**
 * Counts code ids over many batches (the counts live in JavaScript memory, float64, so any number of
 * tokens can be counted exactly up to 2^53 per code): `await add(indices)` per batch, `stats()` at the end.
 */
export class CodebookUsage {
  readonly codebookSize: number;
  readonly counts: Float64Array;

  constructor(codebookSize: number) {
    assertPositiveInt(codebookSize, 'CodebookUsage', 'codebookSize', ConfigError);
    this.codebookSize = codebookSize;
    this.counts = new Float64Array(codebookSize);
  }

  /** Counts the int32 ids of `indices` (any shape), each in [0, codebookSize). The caller keeps `indices`. */
  async add(indices: tf.Tensor): Promise<void> {
    const who = 'CodebookUsage.add';
    assertTensor(indices, who, 'indices');
    if (indices.dtype !== 'int32') throw new DTypeError(`${who}: indices must be int32 code ids, got ${indices.dtype} (shape ${formatShape(indices.shape)})`);
    const ids = (await indices.data()) as Int32Array;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < min) min = ids[i];
      if (ids[i] > max) max = ids[i];
    }
    if (ids.length > 0 && (min < 0 || max >= this.codebookSize)) {
      throw new ValueError(
        `${who}: code ids must be in [0, ${this.codebookSize - 1}] (codebook size ${this.codebookSize}), got values from ${min} to ${max} in shape ${formatShape(indices.shape)}`,
      );
    }
    for (let i = 0; i < ids.length; i++) this.counts[ids[i]] += 1;
  }

  stats(): CodebookStats {
    return codebookStatsOfCounts(this.counts);
  }

  reset(): void {
    this.counts.fill(0);
  }
}

/** Usage, entropy and perplexity of the int32 code ids of one tensor (any shape). */
export async function codebookStats(indices: tf.Tensor, codebookSize: number): Promise<CodebookStats> {
  assertPositiveInt(codebookSize, 'codebookStats', 'codebookSize');
  const usage = new CodebookUsage(codebookSize);
  await usage.add(indices);
  return usage.stats();
}
