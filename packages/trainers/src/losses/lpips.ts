/**
 * LPIPS v0.1 with the VGG16 trunk (richzhang/PerceptualSimilarity `lpips.LPIPS(net='vgg')`, the same
 * network as taming's `LPIPS` that Open-MAGVIT2 trains with), channels-last, with the official state-dict
 * names:
 *
 *   net.slice1.{0,2}          conv 3×3 pad 1 + ReLU ×2                       → relu1_2
 *   net.slice2.{5,7}          max pool 2, conv ×2                            → relu2_2
 *   net.slice3.{10,12,14}     max pool 2, conv ×3                            → relu3_3
 *   net.slice4.{17,19,21}     max pool 2, conv ×3                            → relu4_3
 *   net.slice5.{24,26,28}     max pool 2, conv ×3                            → relu5_3
 *   lin0 … lin4 .model.1      conv 1×1 C_k → 1, no bias (index 0 is the eval-mode Dropout)
 *
 * distance(x, y) = Σ_k mean_hw lin_k((f̂_k(x) − f̂_k(y))²), f̂ the features divided by their channel norm
 * (+1e-10), after the ScalingLayer (x − shift)/scale. Inputs are in [-1, 1] (or [0, 1] with `normalize`).
 * `channels` sets the five widths (VGG16's 64, 128, 256, 512, 512 by default) so a small LPIPS runs in
 * tests. Every parameter is frozen (requires_grad False, as in both official codes); `setTrainable(true)`
 * unfreezes. Load the official weights with `loadLPIPS`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Conv2d, MountedModule, SeededRandom, ShapeError, assertPositiveInt, formatShape } from '@vtok/core';
import { assertSamePair } from './check';
import type { PerceptualLoss } from './perceptual';

/** VGG16's widths at relu1_2 … relu5_3. */
export const LPIPS_VGG_CHANNELS = [64, 128, 256, 512, 512] as const;

/** The ScalingLayer's constants (ImageNet statistics in [-1, 1] units). */
export const LPIPS_SHIFT = [-0.03, -0.088, -0.188] as const;
export const LPIPS_SCALE = [0.458, 0.448, 0.45] as const;

/** torchvision `vgg16().features` indices of the convs of each slice, and whether a max pool opens it. */
export const LPIPS_VGG_SLICES = [
  { pool: false, convs: [0, 2] },
  { pool: true, convs: [5, 7] },
  { pool: true, convs: [10, 12, 14] },
  { pool: true, convs: [17, 19, 21] },
  { pool: true, convs: [24, 26, 28] },
] as const;

/** The smallest image side: four 2×2 max pools must leave one pixel. */
export const LPIPS_MIN_SIZE = 16;

export interface LPIPSConfig {
  /** The widths of the five VGG stages. Default LPIPS_VGG_CHANNELS. */
  channels?: readonly number[];
  /** Inputs in [0, 1], mapped to [-1, 1] first (lpips' `normalize=True`). Default false: inputs in [-1, 1]. */
  normalize?: boolean;
  /** Seed of the initial weights (PyTorch's default init); random when absent. */
  seed?: number;
}

const WHO = 'LPIPS';

export class LPIPS extends MountedModule implements PerceptualLoss {
  readonly channels: readonly number[];
  readonly normalize: boolean;
  private readonly slices: Conv2d[][] = [];
  private readonly lins: Conv2d[] = [];

  constructor(config: LPIPSConfig = {}) {
    super();
    const channels = [...(config.channels ?? LPIPS_VGG_CHANNELS)];
    if (channels.length !== 5) throw new ConfigError(`${WHO}: channels must list the 5 VGG stage widths, got ${channels.length} (${channels.join(', ')})`);
    channels.forEach((c, i) => assertPositiveInt(c, WHO, `channels[${i}]`, ConfigError));
    this.channels = Object.freeze(channels);
    this.normalize = config.normalize ?? false;
    const rng = new SeededRandom(config.seed ?? Math.floor(Math.random() * 2 ** 32));
    let cin = 3;
    LPIPS_VGG_SLICES.forEach(({ convs }, s) => {
      this.slices.push(
        convs.map((index) => {
          const conv = this.mount(`net.slice${s + 1}.${index}`, new Conv2d(cin, channels[s], 3, { padding: 1, rng }));
          cin = channels[s];
          return conv;
        }),
      );
    });
    channels.forEach((c, k) => this.lins.push(this.mount(`lin${k}.model.1`, new Conv2d(c, 1, 1, { bias: false, rng }))));
    this.setTrainable(false);
  }

  /** Per-sample LPIPS of x and y, float32 [B, H, W, 3] of one shape (H, W >= 16) → [B]. The caller owns it. */
  distance(x: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
    this.check(x, y, 'distance');
    const batch = x.shape[0];
    return tf.tidy(() => {
      // Both batches go through the trunk together; each sample's features are its own.
      const features = this.trunk(this.scale(tf.concat([x, y], 0)));
      let sum: tf.Tensor | undefined;
      features.forEach((f, k) => {
        const unit = unitNormalize(f);
        const [a, b] = tf.split(unit, [batch, batch], 0);
        const layer = tf.mean(this.lins[k].forward(tf.squaredDifference(a, b)), [1, 2, 3]);
        sum = sum ? tf.add(sum, layer) : layer;
      });
      return sum as tf.Tensor1D;
    });
  }

  /** The batch mean of `distance` (how the official trainers use it: `.mean()`). */
  compute(x: tf.Tensor, y: tf.Tensor): tf.Scalar {
    this.check(x, y, 'compute');
    return tf.tidy(() => tf.mean(this.distance(x, y)) as tf.Scalar);
  }

  private check(x: tf.Tensor, y: tf.Tensor, method: string): void {
    const who = `${WHO}.${method}`;
    assertSamePair(x, y, who);
    const [, h, w, c] = x.shape;
    if (x.rank !== 4 || c !== 3 || h < LPIPS_MIN_SIZE || w < LPIPS_MIN_SIZE) {
      throw new ShapeError(`${who}: expected images [B, H, W, 3] with H, W >= ${LPIPS_MIN_SIZE}, got ${formatShape(x.shape)}`);
    }
  }

  /** ScalingLayer (after the [0, 1] → [-1, 1] map with `normalize`). */
  private scale(x: tf.Tensor): tf.Tensor {
    const signed = this.normalize ? tf.sub(tf.mul(x, 2), 1) : x;
    return tf.div(tf.sub(signed, tf.tensor1d([...LPIPS_SHIFT])), tf.tensor1d([...LPIPS_SCALE]));
  }

  /** The five VGG16 feature maps relu1_2 … relu5_3. */
  private trunk(x: tf.Tensor): tf.Tensor4D[] {
    const out: tf.Tensor4D[] = [];
    let h = x as tf.Tensor4D;
    LPIPS_VGG_SLICES.forEach(({ pool }, s) => {
      if (pool) h = tf.maxPool(h, 2, 2, 'valid');
      for (const conv of this.slices[s]) h = tf.relu(conv.forward(h)) as tf.Tensor4D;
      out.push(h);
    });
    return out;
  }
}

/**
 * √s whose derivative is 0 where s = 0. A feature vector that is all 0 (a ReLU map can be) has norm 0,
 * where √'s derivative is infinite and turns the whole gradient into NaN; the value is unchanged.
 */
const guardedSqrt = tf.customGrad((...args) => {
  const [s, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const root = tf.sqrt(s);
  save([root]);
  return {
    value: root,
    gradFunc: (dy: tf.Tensor, [r]: tf.Tensor[]) => tf.where(tf.greater(r, 0), tf.div(dy, tf.mul(r, 2)), tf.zerosLike(r)),
  };
});

/** x / (‖x‖ + 1e-10) over channels, lpips' normalize_tensor. */
function unitNormalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.add(guardedSqrt(tf.sum(tf.square(x), -1, true)), 1e-10));
}
