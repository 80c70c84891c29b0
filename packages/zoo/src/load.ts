import type { LoadOptions, ModelSource } from '@vtok/core';
import { loadMaskGIT, type MaskGITGenerator } from '@vtok/maskgit';
import { loadMaskGitVqgan, loadTiTok, type MaskGitVqgan, type TiTok } from '@vtok/titok';
import type { PretrainedCard } from './card';
import { type PretrainedName, pretrainedCard } from './catalog';
import { pretrainedSource } from './source';

/** What `loadPretrained` returns for each zoo name. */
export interface PretrainedModels {
  'digits-vqgan': MaskGitVqgan;
  'digits-titok': TiTok;
  'digits-maskgit': MaskGITGenerator;
  'digits-titok-maskgit': MaskGITGenerator;
}

type ZooModel = PretrainedModels[keyof PretrainedModels];

const LOADERS: Record<PretrainedCard['architecture'], (source: ModelSource, options: LoadOptions) => Promise<ZooModel>> = {
  'maskgit-vqgan': loadMaskGitVqgan,
  titok: loadTiTok,
  maskgit: loadMaskGIT,
};

/**
 * Loads a zoo model by name through its package's loader (core's I/O layer: progress events, abort,
 * and in browsers the cache). An unknown name rejects with an UnknownPluginError listing the names.
 */
export function loadPretrained<N extends PretrainedName>(name: N, options?: LoadOptions): Promise<PretrainedModels[N]>;
export function loadPretrained(name: string, options?: LoadOptions): Promise<ZooModel>;
export async function loadPretrained(name: string, options: LoadOptions = {}): Promise<ZooModel> {
  const card = pretrainedCard(name);
  return LOADERS[card.architecture](pretrainedSource(card.name), options);
}
