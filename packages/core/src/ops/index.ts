// Gradients of tfjs-core's own kernels, needed by every op here (see ../gradients.ts).
import '../gradients';
// Composite ops over tfjs-core: they run on every backend and differentiate through their parts.
export { gelu, silu } from './activations';
export { layerNorm, groupNorm, groupMoments, cumulativeMoments, GROUP_MOMENTS, type GroupNormOpOptions } from './norm';
export { scaledDotProductAttention, type AttentionOptions } from './attention';
export {
  depthToSpace2d,
  spaceToDepth2d,
  depthToSpace3d,
  spaceToDepth3d,
  type ChannelOrder,
  type DepthToSpaceOptions,
} from './depth-to-space';
export { straightThrough, stopGradient } from './gradient';
export {
  conv2dTorch,
  causalConv3d,
  resolvePadding2d,
  type Conv2dOptions,
  type CausalConv3dOptions,
  type Padding2d,
} from './conv';
