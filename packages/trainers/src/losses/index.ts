// The training losses: pixel reconstruction, the quantizer's auxiliary terms, GAN objectives with LeCam and
// the discriminators, and the perceptual-loss slot with LPIPS.
export { l1Loss, l2Loss } from './reconstruction';
export { OFFICIAL_QUANTIZER_LOSS, quantizerLoss, type QuantizerLossWeights } from './quantizer';
export { OFFICIAL_GAN, ganActive, hingeDiscriminatorLoss, hingeGeneratorLoss, nonSaturatingGeneratorLoss, type GanRecipe } from './adversarial';
export { LeCam, type LeCamForm, type LeCamOptions, type LeCamState } from './lecam';
export { adaptiveMaxPool2d } from './adaptive-pool';
export { BLUR_KERNELS, BlurBlock, type BlurKernelSize } from './blur';
export { NLayerDiscriminator, type NLayerDiscriminatorConfig } from './nlayer-discriminator';
export { PatchGANDiscriminator, patchGanKeyOf, type PatchGANDiscriminatorConfig } from './patchgan-discriminator';
export type { PerceptualLoss } from './perceptual';
export { LPIPS, LPIPS_MIN_SIZE, LPIPS_SCALE, LPIPS_SHIFT, LPIPS_VGG_CHANNELS, LPIPS_VGG_SLICES, type LPIPSConfig } from './lpips';
export { loadLPIPS, lpipsKeyOf, type LoadLPIPSOptions } from './lpips-load';
