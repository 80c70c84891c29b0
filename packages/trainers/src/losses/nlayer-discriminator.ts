/**
 * 1d-tokenizer's `NLayerDiscriminator` (modeling/modules/discriminator.py; MaskBit's NLayerDiscriminatorv2,
 * which Open-MAGVIT2's 16384-code pretrain config uses), channels-last, with the official state-dict names:
 *
 *   block_in.0      Conv 5×5 same, in → hidden, then LeakyReLU(0.1)
 *   blocks.i.0      Conv 3×3 same, hidden·m_i → hidden·m_{i+1}  (m = 1, 1, 2, 4, …)
 *   blocks.i.1      BlurBlock (stride 2; `kernel` buffer) or a 2×2 average pool
 *   blocks.i.2      GroupNorm(32), then LeakyReLU(0.1)
 *   pool            AdaptiveMaxPool2d(16×16)
 *   to_logits.0/.2  Conv 1×1, LeakyReLU(0.1), Conv 5×5 same → 1
 *
 * Defaults are the official ones (3 stages, 128 hidden channels: 128 → 128 → 256 → 512); channels, stages,
 * groups and the pool size are options, so a small one trains on 28×28 or 32×32 images. Weights are drawn
 * as PyTorch's default init (the official module has no init of its own).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Conv2d, GroupNorm, MountedModule, SeededRandom, ShapeError, assertPositiveInt, formatShape } from '@vtok/core';
import { adaptiveMaxPool2d } from './adaptive-pool';
import { BLUR_KERNELS, BlurBlock, type BlurKernelSize } from './blur';
import { assertFloatTensor } from './check';

export interface NLayerDiscriminatorConfig {
  /** Image channels (`num_channels`). Default 3. */
  inChannels?: number;
  /** Channels of the first conv (`hidden_channels`). Default 128. */
  hiddenChannels?: number;
  /** Down-sampling stages (`num_stages`); stage i has hidden·2^i output channels. Default 3. */
  numStages?: number;
  /** GroupNorm groups (32 in the official module). Default 32. */
  numGroups?: number;
  /** Side of the adaptive max pool's output (16 in the official module). Default 16. */
  poolSize?: number;
  /** Blur down-sampling (`blur_resample`); false: a 2×2 average pool. Default true. */
  blurResample?: boolean;
  /** Taps of the blur filter (`blur_kernel_size`: 3, 4 or 5). Default 4. */
  blurKernelSize?: BlurKernelSize;
  /** Seed of the initial weights; random when absent. */
  seed?: number;
}

type Resolved = Required<Omit<NLayerDiscriminatorConfig, 'seed'>>;

const WHO = 'NLayerDiscriminator';

function resolve(config: NLayerDiscriminatorConfig): Resolved {
  const c: Resolved = {
    inChannels: config.inChannels ?? 3,
    hiddenChannels: config.hiddenChannels ?? 128,
    numStages: config.numStages ?? 3,
    numGroups: config.numGroups ?? 32,
    poolSize: config.poolSize ?? 16,
    blurResample: config.blurResample ?? true,
    blurKernelSize: config.blurKernelSize ?? 4,
  };
  for (const key of ['inChannels', 'hiddenChannels', 'numStages', 'numGroups', 'poolSize'] as const) assertPositiveInt(c[key], WHO, key, ConfigError);
  if (!(c.blurKernelSize in BLUR_KERNELS)) throw new ConfigError(`${WHO}: blurKernelSize must be 3, 4 or 5, got ${String(c.blurKernelSize)}`);
  if (c.hiddenChannels % c.numGroups !== 0) {
    throw new ConfigError(`${WHO}: hiddenChannels (${c.hiddenChannels}) must be a multiple of numGroups (${c.numGroups}), as every stage's channels are`);
  }
  return c;
}

export class NLayerDiscriminator extends MountedModule {
  readonly config: Readonly<Resolved>;
  private readonly blockIn: Conv2d;
  private readonly stages: { conv: Conv2d; blur?: BlurBlock; norm: GroupNorm }[] = [];
  private readonly head: [Conv2d, Conv2d];

  constructor(config: NLayerDiscriminatorConfig = {}) {
    super();
    const c = resolve(config);
    this.config = Object.freeze(c);
    const rng = new SeededRandom(config.seed ?? Math.floor(Math.random() * 2 ** 32));
    const conv = (path: string, cin: number, cout: number, k: number) => this.mount(path, new Conv2d(cin, cout, k, { padding: 'same', rng }));
    this.blockIn = conv('block_in.0', c.inChannels, c.hiddenChannels, 5);
    let channels = c.hiddenChannels;
    for (let i = 0; i < c.numStages; i++) {
      const out = c.hiddenChannels * 2 ** i;
      this.stages.push({
        conv: conv(`blocks.${i}.0`, channels, out, 3),
        blur: c.blurResample ? this.mount(`blocks.${i}.1`, new BlurBlock(c.blurKernelSize)) : undefined,
        norm: this.mount(`blocks.${i}.2`, new GroupNorm(c.numGroups, out)),
      });
      channels = out;
    }
    this.head = [conv('to_logits.0', channels, channels, 1), conv('to_logits.2', channels, 1, 5)];
  }

  /** Images x [B, H, W, inChannels] float32 → patch logits [B, poolSize, poolSize, 1]. */
  forward(x: tf.Tensor): tf.Tensor4D {
    assertFloatTensor(x, `${WHO}.forward`, 'x');
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels || x.shape[0] < 1) {
      throw new ShapeError(`${WHO}.forward: expected x [B, H, W, ${this.config.inChannels}] with B >= 1, got ${formatShape(x.shape)}`);
    }
    const p = this.config.poolSize;
    return tf.tidy(() => {
      let h = tf.leakyRelu(this.blockIn.forward(x), 0.1) as tf.Tensor4D;
      for (const stage of this.stages) {
        const y = stage.conv.forward(h) as tf.Tensor4D;
        const down = stage.blur ? stage.blur.forward(y) : tf.avgPool(y, 2, 2, 'valid');
        h = tf.leakyRelu(stage.norm.forward(down), 0.1) as tf.Tensor4D;
      }
      h = adaptiveMaxPool2d(h, [p, p]);
      return this.head[1].forward(tf.leakyRelu(this.head[0].forward(h), 0.1)) as tf.Tensor4D;
    });
  }
}
