/**
 * The zoo's catalogue: one card per model, read from the `card.json` shipped beside its weights (bundled
 * into the build, so the cards are there synchronously and in browsers).
 */
import { UnknownPluginError } from '@vtok/core';
import type { PretrainedCard } from './card';
import digitsMaskgit from '../models/digits-maskgit/card.json';
import digitsTitok from '../models/digits-titok/card.json';
import digitsTitokMaskgit from '../models/digits-titok-maskgit/card.json';
import digitsVqgan from '../models/digits-vqgan/card.json';

export const PRETRAINED_NAMES = ['digits-vqgan', 'digits-titok', 'digits-maskgit', 'digits-titok-maskgit'] as const;
export type PretrainedName = (typeof PRETRAINED_NAMES)[number];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// Frozen: callers share these objects, so none may change another's view of a card.
const CARDS: Readonly<Record<PretrainedName, Readonly<PretrainedCard>>> = deepFreeze({
  'digits-vqgan': digitsVqgan as PretrainedCard,
  'digits-titok': digitsTitok as PretrainedCard,
  'digits-maskgit': digitsMaskgit as PretrainedCard,
  'digits-titok-maskgit': digitsTitokMaskgit as PretrainedCard,
});

export function isPretrainedName(name: unknown): name is PretrainedName {
  return typeof name === 'string' && (PRETRAINED_NAMES as readonly string[]).includes(name);
}

/** Every model of the zoo, tokenizers first. */
export function listPretrained(): readonly Readonly<PretrainedCard>[] {
  return PRETRAINED_NAMES.map((name) => CARDS[name]);
}

/** The card of a zoo model; an unknown name is an UnknownPluginError listing the names there are. */
export function pretrainedCard(name: string): Readonly<PretrainedCard> {
  if (!isPretrainedName(name)) throw new UnknownPluginError('pretrained model', String(name), [...PRETRAINED_NAMES]);
  return CARDS[name];
}
