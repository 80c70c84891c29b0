/**
 * Checks at the tokenizer's public boundary: each bad input becomes a typed error that says what was
 * expected and what came.
 *
 * Open-MAGVIT2 is fully convolutional, so the checks are about what the network can take, not about the
 * configured size: height and width positive multiples of the spatial down-sampling factor f (so the
 * decoder gives back the input size), three channels, and for video 1 + k·s frames (s = 2^temporal
 * down-samplings; with any other count the causal encoder never reads the last frames). Token grids
 * of any size decode, except a single latent position (see checkTokenGrid).
 */
import * as tf from '@tensorflow/tfjs-core';
import { formatShape as fmt, ShapeError, ValueError } from '@vtok/core';

/** What a tokenizer takes: the spatial factor, and for video the frame step. */
export interface PixelSpec {
  readonly video: boolean;
  /** Spatial down-sampling factor f: H and W must be positive multiples of it. */
  readonly factor: number;
  /** Video: clips have 1 + k·frameStep frames (1 for images). */
  readonly frameStep: number;
  /** Video: latent frames for T input frames. */
  readonly latentFrames: (frames: number) => number;
}

/** The multiples of `step` (offset by `base`) next to `n`, for "the nearest valid sizes are ..." messages. */
export function nearestValid(n: number, step: number, base = 0): number[] {
  const below = base + Math.floor((n - base) / step) * step;
  const lowest = base === 0 ? step : base;
  return [below, below + step].filter((v, i, all) => v >= lowest && v !== n && all.indexOf(v) === i);
}

const either = (values: readonly number[]) => (values.length === 1 ? `${values[0]}` : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`);

/**
 * Images [B, H, W, 3] or clips [B, T, H, W, 3] -> the token grid they encode to, without the batch
 * ([H/f, W/f] or [t, H/f, W/f]). Throws ShapeError for a wrong rank, an empty batch, a channel count
 * other than 3, H or W not a positive multiple of f, or (video) a frame count other than 1 + k·s.
 */
export function tokenGridFor(shape: readonly number[], spec: PixelSpec, op: string): number[] {
  const layout = spec.video ? ['B', 'T', 'H', 'W', 3] : ['B', 'H', 'W', 3];
  const what = spec.video ? 'clips' : 'images';
  if (shape.length !== layout.length) {
    const hint =
      spec.video && shape.length === 4
        ? ' (this is the video model: an image is a one-frame clip [B, 1, H, W, 3])'
        : !spec.video && shape.length === 5
          ? ' (this is the image model; clips need the video model)'
          : '';
    throw new ShapeError(`${op}: expected ${what} ${fmt(layout)} (rank ${layout.length}), got rank ${shape.length} with shape ${fmt(shape)}${hint}`);
  }
  if (shape[0] < 1) throw new ShapeError(`${op}: the batch is empty (shape ${fmt(shape)})`);
  const channels = shape[shape.length - 1];
  if (channels !== 3) {
    throw new ShapeError(`${op}: expected 3 channels (RGB) in ${what} ${fmt(layout)}, got ${channels} (shape ${fmt(shape)})`);
  }
  const [h, w] = shape.slice(-3, -1);
  const f = spec.factor;
  const bad = ([['height', h], ['width', w]] as const).filter(([, n]) => n < f || n % f !== 0);
  if (bad.length > 0) {
    const problems = bad.map(([axis, n]) => `${axis} ${n} (nearest valid: ${either(nearestValid(n, f))})`);
    throw new ShapeError(
      `${op}: height and width must be positive multiples of the down-sampling factor ${f}, got ${problems.join(' and ')} in ${what} ${fmt(layout)} = ${fmt(shape)}`,
    );
  }
  if (!spec.video) return [h / f, w / f];
  const frames = shape[1];
  const s = spec.frameStep;
  if (frames < 1 || (frames - 1) % s !== 0) {
    const halvings = Math.log2(s);
    const why =
      halvings === 0
        ? ''
        : `. The causal encoder halves time ${halvings === 1 ? 'once' : `${halvings} times`} (T -> floor((T − 1)/2) + 1), ` +
          'so with any other count it never reads the last frames and decoding gives back fewer';
    throw new ShapeError(
      `${op}: expected ${s === 1 ? 'at least 1 frame' : `1 + k·${s} frames`} in clips ${fmt(layout)}, got ${frames} (shape ${fmt(shape)}); nearest valid: ${either(nearestValid(frames, s, 1))}${why}`,
    );
  }
  return [spec.latentFrames(frames), h / f, w / f];
}

/**
 * Token ids [B, h, w] (image) or [B, t, h, w] (video): rank, non-empty axes, and at least 2 latent
 * positions that the decoder's adaptive GroupNorm takes its statistics over — the unbiased variance
 * (÷ (n − 1)) of one position is 0/0, NaN in the official code. `perFrame` (video, 'causal'
 * normalisation) takes frame 0's statistics on its own, so there h·w must be at least 2.
 */
export function checkTokenGrid(ids: tf.Tensor, video: boolean, perFrame: boolean, op: string): void {
  const layout = video ? ['B', 't', 'h', 'w'] : ['B', 'h', 'w'];
  const what = `tokens ${fmt(layout)}`;
  if (ids.rank !== layout.length) {
    throw new ShapeError(`${op}: expected ${what} (rank ${layout.length}), got rank ${ids.rank} with shape ${fmt(ids.shape)}`);
  }
  if (ids.shape.some((d) => d < 1)) throw new ShapeError(`${op}: every axis of ${what} must be at least 1, got shape ${fmt(ids.shape)}`);
  const positions = perFrame ? (ids.shape[2] as number) * (ids.shape[3] as number) : ids.shape.slice(1).reduce((a, b) => a * b, 1);
  if (positions < 2) {
    throw new ValueError(
      `${op}: ${what} = ${fmt(ids.shape)} has ${positions} latent position${perFrame ? ' per frame' : ''}; the decoder's adaptive GroupNorm ` +
        `takes the unbiased variance over the positions and needs at least 2 (the official code gives NaN)`,
    );
  }
}
