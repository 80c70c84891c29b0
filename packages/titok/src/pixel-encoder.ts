/**
 * The MaskGIT-VQGAN encoder (modeling/modules/maskgit_vqgan.py: Encoder, DownsamplingBlock), channels-last:
 * images [B, H, W, 3] in [0, 1] → latents [B, H/f, W/f, zChannels], f = 2^(levels−1). The decoder's mirror:
 * conv_in 3×3 (no bias) to hiddenChannels, per level res blocks (hidden·inMult[i] → hidden·mult[i], with the
 * same nin_shortcut quirk) and a 2×2 average pool after every level but the last, the mid res blocks,
 * GroupNorm, SiLU and a 1×1 conv_out. No attention. State-dict names follow the official module
 * (`conv_in`, `down.i.block.j`, `mid.i`, `norm_out`, `conv_out`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, type GroupNorm, Module, ModuleList, type SeededRandom } from '@vtok/core';
import type { PixelDecoderConfig } from './config';
import { convSame } from './conv';
import { normSilu, ResnetBlock, vqganGroupNorm } from './pixel-decoder';
import { pipe, type Step } from './sequence';

/** One resolution level: res blocks, then (except at the last level) a 2×2 average pool. */
export class DownsamplingBlock extends Module {
  readonly block: ModuleList<ResnetBlock>;

  constructor(
    inChannels: number,
    outChannels: number,
    numResBlocks: number,
    readonly downsample: boolean,
    rng?: SeededRandom,
  ) {
    super();
    this.block = this.addModule('block', new ModuleList<ResnetBlock>());
    for (let i = 0; i < numResBlocks; i++) this.block.push(new ResnetBlock(i === 0 ? inChannels : outChannels, outChannels, rng));
  }

  steps(): Step[] {
    const steps: Step[] = [...this.block].map((b) => (t: tf.Tensor) => b.forward(t));
    // F.avg_pool2d(kernel_size=2, stride=2).
    if (this.downsample) steps.push((t) => tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid'));
    return steps;
  }
}

/** MaskGIT-VQGAN Encoder: [B, H, W, 3] → [B, H/f, W/f, zChannels] (the latents before quantisation). */
export class PixelEncoder extends Module {
  readonly convIn: Conv2d;
  readonly down: ModuleList<DownsamplingBlock>;
  readonly mid: ModuleList<ResnetBlock>;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(
    readonly config: PixelDecoderConfig,
    rng?: SeededRandom,
  ) {
    super();
    const { hiddenChannels: h, channelMult: mult, numResBlocks: r, zChannels } = config;
    const levels = mult.length;
    const top = h * mult[levels - 1];
    this.convIn = this.addModule('conv_in', new Conv2d(3, h, 3, { padding: 1, bias: false, rng }));
    this.down = this.addModule('down', new ModuleList<DownsamplingBlock>());
    // in_channel_mult = (1,) + channel_mult: level i reads what level i − 1 wrote.
    for (let i = 0; i < levels; i++) this.down.push(new DownsamplingBlock(h * (i === 0 ? 1 : mult[i - 1]), h * mult[i], r, i !== levels - 1, rng));
    this.mid = this.addModule('mid', new ModuleList<ResnetBlock>());
    for (let i = 0; i < r; i++) this.mid.push(new ResnetBlock(top, top, rng));
    this.normOut = this.addModule('norm_out', vqganGroupNorm(top));
    this.convOut = this.addModule('conv_out', new Conv2d(top, zChannels, 1, { rng }));
  }

  /** Spatial down-scaling from input to output. */
  get scale(): number {
    return 2 ** (this.config.channelMult.length - 1);
  }

  forward(images: tf.Tensor): tf.Tensor {
    const steps: Step[] = [(t) => convSame(this.convIn, t)];
    for (const level of this.down) steps.push(...level.steps());
    steps.push(...[...this.mid].map((b) => (t: tf.Tensor) => b.forward(t)));
    steps.push((t) => normSilu(this.normOut, t), (t) => convSame(this.convOut, t));
    return pipe(images, ...steps);
  }
}
