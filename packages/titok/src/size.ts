/**
 * Parameter count of a TiTok config without building it (L-32 has 641 M parameters: 2.6 GB to allocate
 * just to count them). Matches `TiTok.parameterCount()` and the official totals.
 */
import type { PixelDecoderConfig, TiTokConfig, VitSize } from './config';

const block = (d: number): number => 4 * d /* ln_1, ln_2 */ + 3 * d * d + 3 * d /* in_proj */ + d * d + d /* out_proj */ + 8 * d * d + 5 * d /* mlp */;
const conv = (cin: number, cout: number, k: number, bias: boolean): number => cin * cout * k * k + (bias ? cout : 0);

function vit(size: VitSize, positions: number, latents: number): number {
  const d = size.width;
  // class token, positional tables, ln_pre, ln_post, blocks
  return d + positions * d + latents * d + 4 * d + size.numLayers * block(d);
}

function pixelDecoder(c: PixelDecoderConfig): number {
  const { hiddenChannels: h, channelMult: mult, numResBlocks: r, zChannels } = c;
  const levels = mult.length;
  const top = h * mult[levels - 1];
  const res = (cin: number, cout: number) => 2 * cin + conv(cin, cout, 3, false) + 2 * cout + conv(cout, cout, 3, false) + (cin !== cout ? conv(cout, cout, 1, false) : 0);
  let n = conv(zChannels, top, 3, true) + r * res(top, top);
  for (let i = 0; i < levels; i++) {
    const blockIn = h * (i === levels - 1 ? mult[levels - 1] : mult[i + 1]);
    const out = h * mult[i];
    for (let j = 0; j < r; j++) n += res(j === 0 ? blockIn : out, out);
    if (i !== 0) n += conv(out, out, 3, true);
  }
  return n + 2 * h * mult[0] + conv(h * mult[0], 3, 3, true);
}

export function titokParameterCount(config: TiTokConfig): number {
  const gEnc = Math.floor(config.imageSize / config.encoderPatchSize);
  const gDec = Math.floor(config.imageSize / config.decoderPatchSize);
  const L = config.numLatentTokens;
  const encOut = config.quantizeMode === 'vae' ? 2 * config.tokenSize : config.tokenSize;
  const E = config.encoder.width;
  const D = config.decoder.width;
  let n = L * E; // latent_tokens
  n += conv(3, E, config.encoderPatchSize, true) + vit(config.encoder, gEnc * gEnc + 1, L) + conv(E, encOut, 1, true);
  n += config.tokenSize * D + D /* decoder_embed */ + D /* mask_token */ + vit(config.decoder, gDec * gDec + 1, L);
  if (config.isLegacy) n += conv(D, 2 * D, 1, true) + conv(2 * D, config.pixelCodebookSize, 1, true);
  else n += conv(D, config.decoderPatchSize ** 2 * 3, 1, true) + conv(3, 3, 3, true);
  if (config.quantizeMode === 'vq') n += config.codebookSize * config.tokenSize;
  if (config.finetuneDecoder && config.pixelDecoder) n += config.pixelCodebookSize * config.pixelDecoder.zChannels + pixelDecoder(config.pixelDecoder);
  return n;
}
