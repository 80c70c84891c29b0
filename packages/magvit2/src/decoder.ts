/**
 * Open-MAGVIT2's decoder, channels-last: conv_in (3×3, bias) -> R mid ResBlocks -> for each level from
 * the top down: AdaptiveGroupNorm conditioned on the quantised latent, R ResBlocks, and (except at
 * level 0) conv + depth-to-space up-sampling -> GroupNorm -> swish -> conv_out (3×3, bias) to RGB.
 * In the video model the up-sampler of level i doubles time as well as space unless ch_mult[i − 1] is 1,
 * and drops the extra frame so t latent frames become 2t − 1.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Module, ModuleList, type SeededRandom } from '@vtok/core';
import type { ArchitectureConfig } from './config';
import { AdaptiveGroupNorm, type StyleStats, styleStatsCausal, styleStatsWhole } from './layers/adaptive-norm';
import { type ConvLike, makeConv } from './layers/conv';
import { FrameGroupNorm, type NormMode, swish } from './layers/norm';
import { ResBlock } from './layers/resblock';
import { Upsampler, upsampledFrameSources } from './layers/upsample';

class UpLevel extends Module {
  readonly block: ModuleList<ResBlock>;
  readonly upsample?: Upsampler;
  constructor(blocks: ResBlock[], upsample?: Upsampler) {
    super();
    this.block = this.addModule('block', new ModuleList(blocks));
    if (upsample) this.upsample = this.addModule('upsample', upsample);
  }
}

/** Temporal factor of each level's up-sampler (index = level; level 0 has none). */
export function upsampleTemporalFactors(config: ArchitectureConfig): (1 | 2)[] {
  return config.chMult.map((_, i) => (config.variant === 'video' && i > 0 && config.chMult[i - 1] !== 1 ? 2 : 1));
}

export class Decoder extends Module {
  readonly conv_in: ConvLike;
  readonly mid_block: ModuleList<ResBlock>;
  readonly up: ModuleList<UpLevel>;
  readonly adaptive: ModuleList<AdaptiveGroupNorm>;
  readonly norm_out: FrameGroupNorm;
  readonly conv_out: ConvLike;

  constructor(
    readonly config: ArchitectureConfig,
    rng?: SeededRandom,
  ) {
    super();
    const { variant, ch, chMult, numResBlocks, zChannels, outCh } = config;
    const levels = chMult.length;
    let blockIn = ch * chMult[levels - 1];
    this.conv_in = this.addModule('conv_in', makeConv(variant, zChannels, blockIn, { kernel: 3, bias: true, rng }));
    this.mid_block = this.addModule('mid_block', new ModuleList(Array.from({ length: numResBlocks }, () => new ResBlock(variant, blockIn, blockIn, rng))));
    // Widths are decided top-down (as upstream builds them), modules are listed by level index.
    const temporal = upsampleTemporalFactors(config);
    const ups: UpLevel[] = new Array(levels);
    const adaptive: AdaptiveGroupNorm[] = new Array(levels);
    for (let i = levels - 1; i >= 0; i--) {
      const blockOut = ch * chMult[i];
      adaptive[i] = new AdaptiveGroupNorm(zChannels, blockIn, rng);
      const blocks: ResBlock[] = [];
      for (let j = 0; j < numResBlocks; j++) {
        blocks.push(new ResBlock(variant, blockIn, blockOut, rng));
        blockIn = blockOut;
      }
      ups[i] = new UpLevel(blocks, i > 0 ? new Upsampler(variant, blockIn, temporal[i], rng) : undefined);
    }
    this.up = this.addModule('up', new ModuleList(ups));
    this.adaptive = this.addModule('adaptive', new ModuleList(adaptive));
    this.norm_out = this.addModule('norm_out', new FrameGroupNorm(blockIn));
    this.conv_out = this.addModule('conv_out', makeConv(variant, blockIn, outCh, { kernel: 3, bias: true, rng }));
  }

  /**
   * zq (the quantised latent, ±1): [B, h, w, z] or [B, t, h, w, z] -> RGB in about [-1, 1]
   * ([B, H, W, 3] / [B, T, H, W, 3]), unclamped. `onStage` as in Encoder.forward.
   */
  forward(zq: tf.Tensor, mode: NormMode, onStage?: (name: string, t: tf.Tensor) => void): tf.Tensor {
    const perFrame = mode === 'causal' && zq.rank === 5;
    const style: StyleStats = perFrame ? styleStatsCausal(zq) : styleStatsWhole(zq);
    // For causal clips: the last latent frame each current frame may depend on.
    let horizon: number[] | undefined = perFrame ? Array.from({ length: zq.shape[1] as number }, (_, i) => i) : undefined;
    let h = this.conv_in.forward(zq);
    const step = (next: tf.Tensor) => {
      h.dispose();
      h = next;
    };
    try {
      onStage?.('dec.conv_in', h);
      for (const block of this.mid_block) step(block.forward(h, mode));
      onStage?.('dec.mid', h);
      for (let i = this.up.length - 1; i >= 0; i--) {
        step(this.adaptive.at(i).forward(h, style, mode, horizon));
        onStage?.(`dec.adaptive${i}`, h);
        const level = this.up.at(i);
        for (const block of level.block) step(block.forward(h, mode));
        if (level.upsample) {
          const frames = h.rank === 5 ? (h.shape[1] as number) : 1;
          step(level.upsample.forward(h, onStage && ((t) => onStage(`dec.up${i}.upsample.conv1`, t))));
          if (horizon) horizon = upsampledFrameSources(frames, level.upsample.temporal).map((s) => horizon![s]);
          onStage?.(`dec.up${i}`, h);
        }
      }
      step(this.norm_out.forward(h, mode));
      step(swish(h));
      step(this.conv_out.forward(h));
      return h;
    } catch (error) {
      h.dispose();
      throw error;
    } finally {
      style.std.dispose();
      style.mean.dispose();
    }
  }

  /** γ and β of AdaptiveGroupNorm `level` for zq ('clip' statistics), each [B, C]: for parity checks. */
  adaptiveModulation(zq: tf.Tensor, level: number): { scale: tf.Tensor; bias: tf.Tensor } {
    const style = styleStatsWhole(zq);
    try {
      return this.adaptive.at(level).modulation(style);
    } finally {
      style.std.dispose();
      style.mean.dispose();
    }
  }
}
