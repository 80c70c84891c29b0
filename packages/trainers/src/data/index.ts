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
export { MissingPackageError } from './optional';
export { memoryImages, type MemoryImages, type MemoryImagesOptions } from './memory';
export { imageFolder, type FolderFit, type ImageFolder, type ImageFolderOptions, type SharpKernel } from './folder';
export { browserImages, type BrowserImage, type BrowserImagesOptions } from './browser';
export { mnistDigits, type MnistOptions, type MnistPackage } from './mnist';
export {
  loadTokenDataset,
  TOKEN_DATASET_FORMAT,
  writeTokenDataset,
  type TokenDataset,
  type TokenDatasetContent,
  type TokenDatasetMetadata,
} from './token-dataset';
export { tokenizeDataset, type TokenizeDatasetOptions } from './tokenize';
