// Layers as Modules with PyTorch parameter names; conv kernels stored channels-last (HWIO/DHWIO).
export { Linear, type LinearOptions } from './linear';
export { Embedding, type EmbeddingOptions } from './embedding';
export { LayerNorm, GroupNorm, type LayerNormOptions, type GroupNormOptions } from './norm';
export { GELU, SiLU } from './activation';
export { Conv2d, CausalConv3d, type Conv2dLayerOptions, type CausalConv3dLayerOptions } from './conv';
export {
  MultiheadAttention,
  type MultiheadAttentionOptions,
  type MultiheadAttentionForwardOptions,
  type QkvLayout,
  type AttentionParameterNames,
} from './attention';
export { MountedModule } from './mount';
export {
  MLP,
  ResidualAttentionBlock,
  TRANSFORMER_NAMING,
  type TransformerNaming,
  type TransformerBlockNames,
  type Activation,
  type MLPOptions,
  type ResidualAttentionBlockOptions,
  type ResidualAttentionBlockForwardOptions,
} from './transformer';
export { torchConv2dWeightToHWIO, hwioToTorchConv2dWeight, torchConv3dWeightToDHWIO, dhwioToTorchConv3dWeight } from './weight-layout';
export { torchDefaultBound, xavierUniformBound, withoutRandomInit, randomInitSkipped, uniformInit, normalInit } from './init';
