export { TiTok, type TiTokOptions, type DecodeOptions, type EncodeLatentsOptions, type Posterior, type QuantizedLatents } from './titok';
export {
  parseOfficialConfig,
  officialConfigFor,
  VIT_PRESETS,
  MASKGIT_VQGAN_DECODER,
  MASKGIT_VQGAN_CODEBOOK_SIZE,
  type TiTokConfig,
  type VitSize,
  type PixelDecoderConfig,
  type QuantizeMode,
  type TiTokQuantizerConfig,
  type OfficialConfig,
} from './config';
export { TITOK_PRESETS, titokPreset, type TiTokPreset, type TiTokPresetName } from './presets';
export { createTiTok } from './create';
export { loadTiTok, saveTiTok, type LoadTiTokOptions } from './checkpoint';
export {
  MaskGitVqgan,
  createMaskGitVqgan,
  loadMaskGitVqgan,
  saveMaskGitVqgan,
  MASKGIT_VQGAN,
  type CreateMaskGitVqganOptions,
  type LoadMaskGitVqganOptions,
  type MaskGitVqganConfig,
  type MaskGitVqganOptions,
  type MaskGitVqganPart,
} from './maskgit-vqgan';
export { TiTokEncoder, TiTokDecoder, ProxyCodeHead, PixelHead, type TiTokEncoderOptions, type TiTokDecoderOptions } from './vit';
export { PixelDecoder, ResnetBlock, UpsamplingBlock } from './pixel-decoder';
export { PixelEncoder, DownsamplingBlock } from './pixel-encoder';
export { PixelCodebook } from './pixel-codebook';
export { titokParameterCount } from './size';
export { titokFlops, transformerBlockFlops, convFlops, pixelDecoderFlops, type TiTokFlops } from './flops';
export { titokStage2 } from './stage2';
