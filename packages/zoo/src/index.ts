// @vtok/zoo: small models this project trained itself, shipped inside the package (models/<name>/:
// config.json, model.safetensors, a model card and card.json), loaded by name.
export type { PretrainedCard } from './card';
export { PRETRAINED_NAMES, type PretrainedName, isPretrainedName, listPretrained, pretrainedCard } from './catalog';
export { pretrainedSource } from './source';
export { loadPretrained, type PretrainedModels } from './load';
