/**
 * The MaskGIT-VQGAN decoder (modeling/modules/maskgit_vqgan.py: Decoder, ResnetBlock), channels-last.
 * It has no attention. Every conv is stride 1 with TF-style "same" padding, which for 3×3 is one pixel
 * on each side and for 1×1 none. State-dict names follow the official module (`conv_in`, `mid.i`,
 * `up.i.block.j`, `up.i.upsample_conv`, `norm_out`, `conv_out`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, GroupNorm, Module, ModuleList, type SeededRandom, silu } from '@vtok/core';
import type { PixelDecoderConfig } from './config';
import { convSame } from './conv';
import { pipe, type Step } from './sequence';

const GROUPS = 32;
const EPS = 1e-6;

/** The MaskGIT-VQGAN's GroupNorm: 32 groups, eps 1e-6 (encoder and decoder alike). */
export const vqganGroupNorm = (channels: number): GroupNorm => new GroupNorm(GROUPS, channels, { eps: EPS });

/** GroupNorm (core's), then SiLU. */
export const normSilu = (norm: GroupNorm, x: tf.Tensor): tf.Tensor => tf.tidy(() => silu(norm.forward(x)));

/**
 * GroupNorm → SiLU → 3×3 conv (no bias), twice; then the residual. When the channel count changes,
 * the residual is `nin_shortcut` applied to the block's OWN output, not to its input: the official
 * port does this and the released weights were trained with it, so it is kept.
 */
export class ResnetBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly ninShortcut?: Conv2d;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    rng?: SeededRandom,
  ) {
    super();
    this.norm1 = this.addModule('norm1', vqganGroupNorm(inChannels));
    this.conv1 = this.addModule('conv1', new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false, rng }));
    this.norm2 = this.addModule('norm2', vqganGroupNorm(outChannels));
    this.conv2 = this.addModule('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false, rng }));
    if (inChannels !== outChannels) {
      this.ninShortcut = this.addModule('nin_shortcut', new Conv2d(outChannels, outChannels, 1, { bias: false, rng }));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = pipe(
      x,
      (t) => normSilu(this.norm1, t),
      (t) => convSame(this.conv1, t),
      (t) => normSilu(this.norm2, t),
      (t) => convSame(this.conv2, t),
    );
    const shortcut = this.ninShortcut;
    const out = tf.tidy(() => tf.add(h, shortcut ? convSame(shortcut, h) : x));
    h.dispose();
    return out;
  }
}

/** One resolution level: res blocks, then (except at level 0) nearest ×2 and a 3×3 conv. */
export class UpsamplingBlock extends Module {
  readonly block: ModuleList<ResnetBlock>;
  readonly upsampleConv?: Conv2d;

  constructor(inChannels: number, outChannels: number, numResBlocks: number, upsample: boolean, rng?: SeededRandom) {
    super();
    this.block = this.addModule('block', new ModuleList<ResnetBlock>());
    for (let i = 0; i < numResBlocks; i++) this.block.push(new ResnetBlock(i === 0 ? inChannels : outChannels, outChannels, rng));
    if (upsample) this.upsampleConv = this.addModule('upsample_conv', new Conv2d(outChannels, outChannels, 3, { padding: 1, rng }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return pipe(x, ...this.steps());
  }

  steps(): Step[] {
    const steps: Step[] = [...this.block].map((b) => (t: tf.Tensor) => b.forward(t));
    const conv = this.upsampleConv;
    if (conv) {
      // F.interpolate(scale_factor=2, mode="nearest"): every pixel copied to a 2×2 square.
      steps.push((t) => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [2 * t.shape[1]!, 2 * t.shape[2]!], false, false));
      steps.push((t) => convSame(conv, t));
    }
    return steps;
  }
}

/** MaskGIT-VQGAN Decoder: [B, h, w, zChannels] → [B, h·2^(levels−1), w·2^(levels−1), 3], unclamped. */
export class PixelDecoder extends Module {
  readonly convIn: Conv2d;
  readonly mid: ModuleList<ResnetBlock>;
  readonly up: ModuleList<UpsamplingBlock>;
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
    this.convIn = this.addModule('conv_in', new Conv2d(zChannels, top, 3, { padding: 1, rng }));
    this.mid = this.addModule('mid', new ModuleList<ResnetBlock>());
    for (let i = 0; i < r; i++) this.mid.push(new ResnetBlock(top, top, rng));
    // Stored by level index 0..levels−1 (as upstream), run from the top level down.
    this.up = this.addModule('up', new ModuleList<UpsamplingBlock>());
    for (let i = 0; i < levels; i++) {
      const blockIn = h * (i === levels - 1 ? mult[levels - 1] : mult[i + 1]);
      this.up.push(new UpsamplingBlock(blockIn, h * mult[i], r, i !== 0, rng));
    }
    this.normOut = this.addModule('norm_out', vqganGroupNorm(h * mult[0]));
    this.convOut = this.addModule('conv_out', new Conv2d(h * mult[0], 3, 3, { padding: 1, rng }));
  }

  /** Spatial up-scaling from input to output. */
  get scale(): number {
    return 2 ** (this.config.channelMult.length - 1);
  }

  forward(z: tf.Tensor): tf.Tensor {
    const steps: Step[] = [(t) => convSame(this.convIn, t), ...[...this.mid].map((b) => (t: tf.Tensor) => b.forward(t))];
    for (let i = this.up.length - 1; i >= 0; i--) steps.push(...this.up.at(i).steps());
    steps.push((t) => normSilu(this.normOut, t), (t) => convSame(this.convOut, t));
    return pipe(z, ...steps);
  }
}
