/**
 * Analytic FLOP counts of TiTok per image, for GFLOP/s figures in benchmarks. A multiply-add is 2 FLOPs;
 * only matrix products and convolutions are counted (norms, softmax, GELU and adds are a small fraction
 * and differ between implementations).
 */
import type { PixelDecoderConfig, TiTokConfig, VitSize } from './config';

/** One pre-LN transformer block over n tokens of width d (MLP ratio 4): qkv, scores, weighted sum, out, MLP. */
export function transformerBlockFlops(n: number, d: number): number {
  const qkv = 2 * n * d * 3 * d;
  const scores = 2 * n * n * d;
  const mix = 2 * n * n * d;
  const out = 2 * n * d * d;
  const mlp = 2 * 2 * n * d * 4 * d;
  return qkv + scores + mix + out + mlp;
}

/** A conv with a k×k kernel producing h×w outputs. */
export function convFlops(h: number, w: number, cin: number, cout: number, k: number): number {
  return 2 * h * w * cin * cout * k * k;
}

function trunkFlops(size: VitSize, n: number): number {
  return size.numLayers * transformerBlockFlops(n, size.width);
}

/** The MaskGIT-VQGAN decoder on a g×g latent grid. */
export function pixelDecoderFlops(config: PixelDecoderConfig, g: number): number {
  const { hiddenChannels: h, channelMult: mult, numResBlocks: r, zChannels } = config;
  const levels = mult.length;
  const top = h * mult[levels - 1];
  let flops = convFlops(g, g, zChannels, top, 3) + r * 2 * convFlops(g, g, top, top, 3);
  let res = g;
  for (let i = levels - 1; i >= 0; i--) {
    const blockIn = h * (i === levels - 1 ? mult[levels - 1] : mult[i + 1]);
    const out = h * mult[i];
    for (let j = 0; j < r; j++) {
      const cin = j === 0 ? blockIn : out;
      flops += convFlops(res, res, cin, out, 3) + convFlops(res, res, out, out, 3);
      if (cin !== out) flops += convFlops(res, res, out, out, 1);
    }
    if (i !== 0) {
      res *= 2;
      flops += convFlops(res, res, out, out, 3);
    }
  }
  return flops + convFlops(res, res, h * mult[0], 3, 3);
}

export interface TiTokFlops {
  /** Image → token ids (VQ distances included). */
  encode: number;
  /** Token ids → image. */
  decode: number;
  /** Parts of `decode`. */
  decodeParts: { transformer: number; head: number; pixelDecoder: number };
}

/** FLOPs per image of encode and decode. */
export function titokFlops(config: TiTokConfig): TiTokFlops {
  const gEnc = Math.floor(config.imageSize / config.encoderPatchSize);
  const gDec = Math.floor(config.imageSize / config.decoderPatchSize);
  const L = config.numLatentTokens;
  const encOut = config.quantizeMode === 'vae' ? 2 * config.tokenSize : config.tokenSize;
  const patch = convFlops(gEnc, gEnc, 3, config.encoder.width, config.encoderPatchSize);
  const encoderTrunk = trunkFlops(config.encoder, 1 + gEnc * gEnc + L);
  const project = 2 * L * config.encoder.width * encOut;
  const quantize = config.quantizeMode === 'vq' ? 2 * L * config.tokenSize * config.codebookSize : 0;

  const D = config.decoder.width;
  const embed = 2 * L * config.tokenSize * D;
  const decoderTrunk = trunkFlops(config.decoder, 1 + gDec * gDec + L);
  let head: number;
  let pixelDecoder = 0;
  if (config.isLegacy) {
    head = convFlops(gDec, gDec, D, 2 * D, 1) + convFlops(gDec, gDec, 2 * D, config.pixelCodebookSize, 1);
    if (config.finetuneDecoder && config.pixelDecoder) {
      head += 2 * gDec * gDec * config.pixelCodebookSize * config.pixelDecoder.zChannels; // soft codebook lookup
      pixelDecoder = pixelDecoderFlops(config.pixelDecoder, gDec);
    }
  } else {
    const p = config.decoderPatchSize;
    head = convFlops(gDec, gDec, D, p * p * 3, 1) + convFlops(gDec * p, gDec * p, 3, 3, 3);
  }
  return {
    encode: patch + encoderTrunk + project + quantize,
    decode: embed + decoderTrunk + head + pixelDecoder,
    decodeParts: { transformer: embed + decoderTrunk, head, pixelDecoder },
  };
}
