import type { LoadOptions, ModelSource } from '@vtok/core';
import { loadMaskGIT, type MaskGITGenerator } from '@vtok/maskgit';
import { loadMaskGitVqgan, type MaskGitVqgan } from '@vtok/titok';
import type { PretrainedCard } from './card';
import { type PretrainedName, pretrainedCard } from './catalog';
import { pretrainedSource } from './source';

/** What `loadPretrained` returns for each zoo name. */
export interface PretrainedModels {
  'digits-vqgan': MaskGitVqgan;
  'digits-maskgit': MaskGITGenerator;
}

const LOADERS: Record<PretrainedCard['architecture'], (source: ModelSource, options: LoadOptions) => Promise<MaskGitVqgan | MaskGITGenerator>> = {
  'maskgit-vqgan': loadMaskGitVqgan,
  maskgit: loadMaskGIT,
};

/**
 * Loads a zoo model by name through its package's loader (core's I/O layer: progress events, abort,
 * and in browsers the cache). An unknown name rejects with an UnknownPluginError listing the names.
 */
export function loadPretrained<N extends PretrainedName>(name: N, options?: LoadOptions): Promise<PretrainedModels[N]>;
export function loadPretrained(name: string, options?: LoadOptions): Promise<MaskGitVqgan | MaskGITGenerator>;
export async function loadPretrained(name: string, options: LoadOptions = {}): Promise<MaskGitVqgan | MaskGITGenerator> {
  const card = pretrainedCard(name);
  return LOADERS[card.architecture](pretrainedSource(card.name), options);
}
