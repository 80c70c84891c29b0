/**
 * Open-MAGVIT2's encoder (improved_model.py / improved_video_model.py `Encoder`), channels-last:
 * conv_in (3×3, no bias) -> per level R ResBlocks and, except at the last level, a stride-2 conv
 * -> R mid ResBlocks -> GroupNorm -> swish -> conv_out (1×1, bias) to z channels. In the video model
 * a level with channel multiplier 1 down-samples space only (stride (1,2,2)); the others time and
 * space (2,2,2), so temporal down-sampling comes after the spatial-only levels (17 frames -> 17 -> 9 -> 5).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Module, ModuleList, type SeededRandom } from '@vtok/core';
import type { ArchitectureConfig } from './config';
import { type ConvLike, makeConv } from './layers/conv';
import { FrameGroupNorm, type NormMode, swish } from './layers/norm';
import { ResBlock } from './layers/resblock';

class DownLevel extends Module {
  readonly block: ModuleList<ResBlock>;
  readonly downsample?: ConvLike;
  constructor(blocks: ResBlock[], downsample?: ConvLike) {
    super();
    this.block = this.addModule('block', new ModuleList(blocks));
    if (downsample) this.downsample = this.addModule('downsample', downsample);
  }
}

/** The strides of each encoder level's down-sampler ([t, h, w]); the last level has none. */
export function downsampleStrides(config: ArchitectureConfig): [number, number, number][] {
  return config.chMult.slice(0, -1).map((mult) => (config.variant === 'video' && mult !== 1 ? [2, 2, 2] : [1, 2, 2]));
}

export class Encoder extends Module {
  readonly conv_in: ConvLike;
  readonly down: ModuleList<DownLevel>;
  readonly mid_block: ModuleList<ResBlock>;
  readonly norm_out: FrameGroupNorm;
  readonly conv_out: ConvLike;

  constructor(
    readonly config: ArchitectureConfig,
    rng?: SeededRandom,
  ) {
    super();
    const { variant, ch, chMult, numResBlocks, zChannels, inChannels } = config;
    this.conv_in = this.addModule('conv_in', makeConv(variant, inChannels, ch, { kernel: 3, bias: false, rng }));
    const strides = downsampleStrides(config);
    const levels: DownLevel[] = [];
    let blockIn = ch;
    for (let i = 0; i < chMult.length; i++) {
      const blockOut = ch * chMult[i];
      const blocks: ResBlock[] = [];
      for (let j = 0; j < numResBlocks; j++) {
        blocks.push(new ResBlock(variant, blockIn, blockOut, rng));
        blockIn = blockOut;
      }
      const down =
        i < chMult.length - 1
          ? makeConv(variant, blockOut, blockOut, { kernel: 3, stride: strides[i], bias: true, rng })
          : undefined;
      levels.push(new DownLevel(blocks, down));
    }
    this.down = this.addModule('down', new ModuleList(levels));
    const top = ch * chMult[chMult.length - 1];
    this.mid_block = this.addModule('mid_block', new ModuleList(Array.from({ length: numResBlocks }, () => new ResBlock(variant, blockIn, blockIn, rng))));
    // As upstream: the last level's width (equal to blockIn whenever numResBlocks > 0).
    this.norm_out = this.addModule('norm_out', new FrameGroupNorm(top));
    this.conv_out = this.addModule('conv_out', makeConv(variant, top, zChannels, { kernel: 1, bias: true, rng }));
  }

  /**
   * x in [-1, 1]: [B, H, W, 3] (image) or [B, T, H, W, 3] (video) -> latent before quantisation
   * [B, h, w, z] or [B, t, h, w, z]. `onStage` sees each named stage output (for parity checks); it
   * must not keep the tensor.
   */
  forward(x: tf.Tensor, mode: NormMode, onStage?: (name: string, t: tf.Tensor) => void): tf.Tensor {
    let h = this.conv_in.forward(x);
    onStage?.('enc.conv_in', h);
    const step = (next: tf.Tensor) => {
      h.dispose();
      h = next;
    };
    try {
      this.down.items.forEach((level, i) => {
        for (const block of level.block) step(block.forward(h, mode));
        if (level.downsample) step(level.downsample.forward(h));
        onStage?.(`enc.down${i}`, h);
      });
      for (const block of this.mid_block) step(block.forward(h, mode));
      onStage?.('enc.mid', h);
      step(this.norm_out.forward(h, mode));
      onStage?.('enc.norm_out', h);
      step(swish(h));
      step(this.conv_out.forward(h));
      onStage?.('enc.out', h);
      return h;
    } catch (error) {
      h.dispose();
      throw error;
    }
  }
}
