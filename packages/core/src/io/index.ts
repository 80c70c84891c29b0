export { isNode, envVar, nodeModule } from './env';
export { type OpenedFile, fileFromBytes, openLocalFile } from './file';
export { DEFAULT_HUB_ENDPOINT, type HubId, parseHubId, isHubId, hubEndpoint, hubPrefix } from './hub';
export { type FileCache, type CacheWriter, defaultCacheDir, defaultCache, folderCache, browserCache, cacheKeyPath } from './cache';
export { download, type DownloadOptions, type DownloadSink, type FetchLike } from './download';
export { type FileEntry, type ModelSource, type LoadOptions, type ModelFiles, modelFiles, openRemoteFile, WEIGHT_FILE_PATTERN } from './sources';
export { resolveConfigReferences, resolveReference, readJsonFile } from './config';
export { type WeightsFormat, type WeightsEntry, type WeightsFile, type OpenWeightsOptions, sniffWeightsFormat, openWeights } from './weights';
export { type TorchLayout, torchLayouts, torchShape, fromTorchLayout, toTorchLayout, loadWeightsInto, torchStateDictEntries, type LoadWeightsOptions } from './state-dict';
export { type FileToSave, saveFolder, saveFile, readableFolder } from './save';
export {
  CONFIG_FILE,
  WEIGHTS_FILE,
  CONFIG_METADATA_KEY,
  type OpenModelOptions,
  type OpenedModel,
  openModel,
  type ModelLoader,
  loadModel,
  type SavedModelFiles,
  type ModelToSave,
  saveModel,
} from './model';
export { type Hasher, sha256Hasher, sha256Hex } from './hash';
