// Datasets and batching of @vtok/trainers (README.md, "Datasets").
export { assertIndex, mapDataset, type Dataset, type ImageExample, type ImageShape, type TokenExample } from './dataset';
export { batches, type Augment, type BatchOptions, type DataPosition, type ImageBatch, type TokenBatch } from './batches';
export { epochOrder } from './order';
export {
  centerCrop,
  composeAugments,
  cropImage,
  flipHorizontal,
  randomCrop,
  randomHorizontalFlip,
  resizeImage,
  resizeShorterSide,
  type ImageSize,
  type ResizeOptions,
} from './transforms';
export type { ResampleFilter } from './resample';
