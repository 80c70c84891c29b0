/**
 * LayerNorm and GroupNorm as composites of tfjs-core ops, so they differentiate on every
 * backend. Both use the biased variance (divide by N), as PyTorch's layer_norm and group_norm do.
 * Broadcasting arithmetic runs on tensors of rank <= 4: tfjs-webgpu 4.22 emits invalid WGSL for
 * broadcasting binary ops at rank 5 (and silently returns garbage).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { assertFloat, assertMinRank, assertPositiveInt, assertRank, assertShape, formatShape } from './validate';

/** (x − mean) / sqrt(var + eps) over `axes`, statistics kept broadcastable. */
function normalize(x: tf.Tensor, axes: number[], eps: number): tf.Tensor {
  const mean = tf.mean(x, axes, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axes, true);
  return tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
}

/** Per-channel scale and shift over the last axis, applied on a [rows, C] view. */
function affine(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined): tf.Tensor {
  if (!gamma && !beta) return x;
  let y = tf.reshape(x, [-1, x.shape[x.rank - 1]]);
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return tf.reshape(y, x.shape);
}

function checkAffine(t: tf.Tensor | undefined, size: number, op: string, name: string): void {
  if (!t) return;
  assertFloat(t, op, name);
  assertShape(t, [size], op, name);
}

/**
 * Layer normalisation over the last axis (torch.nn.functional.layer_norm with
 * normalized_shape = [x.shape[-1]]). `gamma` and `beta` have shape [C].
 */
export function layerNorm(x: tf.Tensor, gamma?: tf.Tensor, beta?: tf.Tensor, eps = 1e-5): tf.Tensor {
  const op = 'layerNorm';
  assertFloat(x, op);
  assertMinRank(x, 1, op);
  const c = x.shape[x.rank - 1];
  checkAffine(gamma, c, op, 'gamma');
  checkAffine(beta, c, op, 'beta');
  return tf.tidy(() => {
    const rows = tf.reshape(x, [-1, c]);
    return tf.reshape(affine(normalize(rows, [1], eps), gamma, beta), x.shape);
  });
}

export interface GroupNormOpOptions {
  /**
   * Axis 1 is time (`[B, T, ...spatial, C]`, rank >= 4) and the statistics are causal: frame t is
   * normalised with the mean and variance of frames 0..t, so no output frame depends on a later input
   * frame. Frame 0 gets exactly the statistics of frame 0 alone and the last frame those of the whole
   * clip. Default false: one set of statistics per (sample, group) over every position, frames included,
   * as torch.nn.GroupNorm on [B, C, T, H, W].
   */
  causal?: boolean;
}

/**
 * Group normalisation for channels-last tensors [B, ...spatial, C] of any rank >= 3 (NHWC, NDHWC,
 * or [B,N,C]). Channels split into `numGroups` contiguous groups, as torch.nn.GroupNorm does on
 * [B,C,...]; the statistics of a group span all spatial positions (frames included, unless `causal`)
 * and its C/G channels. `gamma` and `beta` are per channel, shape [C]. Biased variance.
 *
 * The statistics come from the kernel GROUP_MOMENTS (a backend package may register a fast one: see
 * there), else from a composite (products with rows of ones, summed in stages: see groupMeans); either
 * way each sample (and frame) is computed on its own, so its result does not depend on what else is in
 * the batch. The output is y = x·scale + shift
 * with per-(sample, channel) scale = γ/√(σ² + ε) and shift = β − μ·scale, as PyTorch's own kernel
 * computes it: for one sample a single depthwise 1×1 convolution with bias, otherwise a multiply and an
 * add broadcast at rank 3 (tfjs-wasm runs broadcasts over inner axes element by element, and
 * tfjs-webgpu 4.22 mis-compiles rank-5 ones).
 */
export function groupNorm(
  x: tf.Tensor,
  numGroups: number,
  gamma?: tf.Tensor,
  beta?: tf.Tensor,
  eps = 1e-5,
  options: GroupNormOpOptions = {},
): tf.Tensor {
  const op = 'groupNorm';
  const causal = options.causal ?? false;
  assertFloat(x, op);
  if (causal) assertMinRank(x, 4, op, 'x', '[B,T,...spatial,C] (causal)');
  else assertMinRank(x, 3, op, 'x', '[B,...spatial,C]');
  assertPositiveInt(numGroups, op, 'numGroups');
  const c = x.shape[x.rank - 1];
  if (c % numGroups !== 0) {
    throw new ShapeError(`${op}: channels (${c}, last dimension of ${formatShape(x.shape)}) must be divisible by numGroups ${numGroups}`);
  }
  checkAffine(gamma, c, op, 'gamma');
  checkAffine(beta, c, op, 'beta');
  if (x.size === 0) return tf.clone(x);
  return tf.tidy(() => {
    const g = numGroups;
    const b = x.shape[0];
    const frames = causal ? x.shape[1]! : 1;
    const rows = b * frames;
    const flat = tf.reshape(x, [rows, x.size / (rows * c), c]);
    let [mean, variance] = groupMoments(flat, g);
    if (causal && frames > 1) {
      const cumulative = cumulativeMoments(tf.reshape(mean, [b, frames, g]), tf.reshape(variance, [b, frames, g]));
      mean = tf.reshape(cumulative.mean, [rows, g]);
      variance = tf.reshape(cumulative.variance, [rows, g]);
    }
    let scale = perChannel(tf.rsqrt(tf.add(variance, eps)), c);
    if (gamma) scale = tf.mul(scale, gamma);
    let shift = tf.neg(tf.mul(perChannel(mean, c), scale));
    if (beta) shift = tf.add(shift, beta);
    return tf.reshape(scaleShift(flat, scale, shift), x.shape);
  });
}

/**
 * Kernel name of groupNorm's statistics: input `x` float32 [rows, S, C], attribute `numGroups` G;
 * outputs the mean and the biased variance of each (row, group) over its S positions and C/G channels,
 * float32 [rows, G] each. Without a kernel of this name on the active backend, groupNorm computes them
 * with a composite of tfjs ops. A backend package registers a faster one with tf.registerKernel
 * (@vtok/backend-wasm does, for 'wasm'); it must compute every row on its own, so a row's statistics do
 * not depend on the other rows, and be at least as accurate as the composite. The gradient is core's
 * (registered here), so a registered kernel needs no gradient of its own.
 */
export const GROUP_MOMENTS = 'VtokGroupMoments';

/** Mean and biased variance per (row, group) of `flat` [rows, S, C]: [rows, G] each. */
export function groupMoments(flat: tf.Tensor, numGroups: number): [tf.Tensor, tf.Tensor] {
  if (tf.getKernel(GROUP_MOMENTS, tf.getBackend())) {
    return tf.engine().runKernel(GROUP_MOMENTS, { x: flat }, { numGroups }) as unknown as [tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const mean = groupMeans(flat, numGroups);
    return [mean, groupMeans(squaredDeviation(flat, perChannel(mean, flat.shape[2]!)), numGroups)];
  });
}

/**
 * d mean/dx = 1/n and d variance/dx = 2(x − mean)/n per element of the (row, group), n = S·C/G: the
 * gradient of GROUP_MOMENTS whichever backend computed it.
 */
if (!tf.getGradient(GROUP_MOMENTS)) {
  tf.registerGradient({
    kernelName: GROUP_MOMENTS,
    inputsToSave: ['x'],
    outputsToSave: [true, false],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [dMean, dVariance] = dys as tf.Tensor[];
      const [x, mean] = saved as [tf.Tensor, tf.Tensor];
      return {
        x: () =>
          tf.tidy(() => {
            const [rows, s, c] = x.shape as [number, number, number];
            const n = (s * c) / mean.shape[1]!;
            const centered = tf.sub(x, perChannel(mean, c));
            const viaVariance = tf.mul(centered, perChannel(tf.mul(dVariance!, 2 / n), c));
            const viaMean = perChannel(tf.div(dMean!, n), c);
            return tf.reshape(tf.add(viaVariance, viaMean), [rows, s, c]);
          }),
      };
    },
  });
}

/**
 * The largest divisor of n that is at most √n (1 for a prime): splits n terms into equal blocks.
 */
function balancedDivisor(n: number): number {
  for (let d = Math.floor(Math.sqrt(n)); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * Means of `values` [rows, S, C] over S and the C/G channels of each group: [rows, G]. The sum over S is
 * two products with rows of ones per row, first over blocks of s₁ positions (s₁ the largest divisor of S
 * up to √S), then over the S/s₁ block sums, so no float32 accumulation runs over more than about √S terms
 * (a single pass over 256²×C/G terms drifts by 2e-4 against PyTorch's pairwise sums); then over the C/G
 * channels. Products, not reductions: tfjs-wasm reduces a non-innermost axis as a transpose plus a
 * reduction, and tfjs-webgpu runs a reduction with a short inner axis as one workgroup per output. One
 * product per row: tfjs-webgpu picks its matMul program by the whole problem's size, so a batched
 * product would make a row's sums depend on how many rows there are.
 */
function groupMeans(values: tf.Tensor, g: number): tf.Tensor {
  const [rows, s, c] = values.shape as [number, number, number];
  const s1 = balancedDivisor(s);
  const s2 = s / s1;
  const blockOnes = tf.ones([1, s1]);
  const ones = tf.ones([1, s2]);
  const channelSums = (row: tf.Tensor): tf.Tensor => {
    const partial = s1 > 1 ? tf.matMul(blockOnes, tf.reshape(row, [s1, s2 * c])) : row; // [1, s2·C]
    return tf.matMul(ones, tf.reshape(partial, [s2, c])); // [1, C]
  };
  const sums = rows === 1 ? channelSums(values) : tf.concat(tf.unstack(values).map(channelSums), 0); // [rows, C]
  return tf.div(tf.sum(tf.reshape(sums, [rows, g, c / g]), 2), s * (c / g));
}

/**
 * (x − m)² in one pass (tf.squaredDifference) for x [rows, S, C] and m broadcast over S. Its own
 * gradient: tfjs-core's SquaredDifference gradient does not sum over broadcast axes.
 */
const squaredDeviation = (x: tf.Tensor, m: tf.Tensor): tf.Tensor =>
  tf.customGrad((...args) => {
    const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([a, b]);
    return {
      value: tf.squaredDifference(a, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
        const da = tf.mul(dy, tf.mul(tf.sub(sa, sb), 2));
        const c = sa.shape[2]!;
        const db = tf.reshape(tf.neg(tf.sum(tf.reshape(da, [sb.rank === 1 ? 1 : sa.shape[0]!, -1, c]), 1)), sb.shape);
        return [da, db];
      },
    };
  })(x, m);

/**
 * Per-(row, group) values [rows, G] repeated over the channels of each group: [C] for one row (rank 1:
 * tfjs-wasm's fused depthwise convolution checks the rank its bias was created with), else [rows, 1, C].
 */
function perChannel(values: tf.Tensor, c: number): tf.Tensor {
  const [rows, g] = values.shape as [number, number];
  const repeated = tf.broadcastTo(tf.reshape(values, [rows, g, 1]), [rows, g, c / g]);
  return tf.reshape(repeated, rows === 1 ? [c] : [rows, 1, c]);
}

/** x·scale + shift for `flat` [rows, S, C] and per-(row, channel) `scale`, `shift` (as perChannel shapes them). */
function scaleShift(flat: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor): tf.Tensor {
  const [rows, s, c] = flat.shape as [number, number, number];
  if (rows > 1) return tf.add(tf.mul(flat, scale), shift);
  // One vectorised pass: a depthwise 1×1 convolution with bias is a per-channel multiply-add.
  return tf.fused.depthwiseConv2d({
    x: tf.reshape(flat, [1, s, 1, c]) as tf.Tensor4D,
    filter: tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D,
    strides: 1,
    pad: 'valid',
    bias: shift,
  });
}

/** [1, T, 1] with 1/(t+1): turns cumulative sums over frames into cumulative means. */
function inverseCounts(frames: number): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: frames }, (_, t) => 1 / (t + 1)), [1, frames, 1]);
}

/** Lower-triangular [1, T, T, 1] mask (s <= t). */
function causalMask(frames: number): tf.Tensor {
  const m = new Float32Array(frames * frames);
  for (let t = 0; t < frames; t++) for (let s = 0; s <= t; s++) m[t * frames + s] = 1;
  return tf.tensor(m, [1, frames, frames, 1]);
}

/**
 * Cumulative (frames 0..t) mean and biased variance from per-frame means `m` and biased variances `v`,
 * both [B, T, K] over frames of equal size: μ_t = mean_{s<=t} m_s and σ²_t = mean_{s<=t} (v_s + (m_s − μ_t)²)
 * (Chan et al.'s pooled moments, never E[x²] − E[x]², so nothing is lost to cancellation). Frame 0 gives
 * back (m_0, v_0) exactly. Used by groupNorm's `causal` statistics; exported for statistics of the same
 * kind elsewhere (e.g. MAGVIT-v2's causal style statistics).
 */
export function cumulativeMoments(m: tf.Tensor, v: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor } {
  const op = 'cumulativeMoments';
  assertFloat(m, op, 'm');
  assertFloat(v, op, 'v');
  assertRank(m, 3, op, 'm', '[B,T,K]');
  assertShape(v, m.shape, op, 'v');
  return tf.tidy(() => {
    const [b, frames, k] = m.shape as [number, number, number];
    const inv = inverseCounts(frames);
    const mask = causalMask(frames);
    // Σ_{s<=t} as a masked sum over [B, T(t), T(s), K] (tf.cumsum's gradient is wrong off the last axis).
    const pairs = (x: tf.Tensor) => tf.reshape(x, [b, 1, frames, k]);
    const upTo = (x: tf.Tensor) => tf.sum(tf.mul(x, mask), 2);
    const mean = tf.mul(upTo(pairs(m)), inv);
    // (m_s − μ_t)² for every pair s <= t.
    const spread = upTo(tf.square(tf.sub(pairs(m), tf.reshape(mean, [b, frames, 1, k]))));
    const variance = tf.mul(tf.add(upTo(pairs(v)), spread), inv);
    return { mean, variance };
  });
}
