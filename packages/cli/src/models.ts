/**
 * `--model` (and `info`'s argument): a zoo name, a folder, a URL or an `hf:owner/name` id, loaded as the
 * Tokenizer or Generator it is. Which model package loads a folder is decided by its config.json (read
 * through core's I/O layer): MaskGIT's official tree, TiTok's, Open-MAGVIT2's, or our MaskGIT-VQGAN config.
 */
import type { LoadOptions, ModelSource, Tokenizer } from '@vtok/core';
import { openModel } from '@vtok/core';
import { loadMagvit2 } from '@vtok/magvit2';
import { isOfficialConfig, loadMaskGIT, type MaskGITGenerator } from '@vtok/maskgit';
import { loadMaskGitVqgan, loadTiTok } from '@vtok/titok';
import { isPretrainedName, listPretrained, pretrainedCard, pretrainedSource, type PretrainedCard } from '@vtok/zoo';
import { InputError } from './errors';
import { bitsPerToken, bytesPerEntry, tokensPerEntry } from './token-file';

export type Architecture = 'maskgit-vqgan' | 'titok' | 'magvit2' | 'maskgit';

/** A model the CLI can run, with what it is and where it came from. */
export type LoadedModel =
  | { kind: 'tokenizer'; architecture: Architecture; model: Tokenizer & Counted; source: string; card?: Readonly<PretrainedCard> }
  | { kind: 'generator'; architecture: 'maskgit'; model: MaskGITGenerator; source: string; card?: Readonly<PretrainedCard> };

/** Models that can count their parameters (every vtok Module). */
interface Counted {
  parameterCount?(): number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Which model package a config belongs to, or undefined when none recognises it. TiTok's hub repos ship one
 * config.json for a tokenizer and its generator alike; the weights' names tell them apart then (a tokenizer
 * has an `encoder`).
 */
export function architectureOf(config: unknown, weightNames: readonly string[] = []): Architecture | undefined {
  if (!isObject(config)) return undefined;
  const model = config.model;
  const titok = isObject(model) && isObject(model.vq_model) && 'vit_enc_model_size' in model.vq_model;
  if (isOfficialConfig(config)) return titok && weightNames.some((n) => n.startsWith('encoder.')) ? 'titok' : 'maskgit';
  if (titok) return 'titok';
  if (['numEmbeddings', 'hiddenChannels', 'channelMult'].every((k) => k in config)) return 'maskgit-vqgan';
  // Open-MAGVIT2's YAML as JSON: the model's arguments carry the encoder/decoder's ddconfig.
  if (isObject(model) && (isObject(model.init_args) || isObject(model.params))) {
    const args = (model.init_args ?? model.params) as Record<string, unknown>;
    if (isObject(args.ddconfig)) return 'magvit2';
  }
  return undefined;
}

const zooNames = () => listPretrained().map((c) => c.name).join(', ');

/** The source a model argument names: a URL or hub id as given, else a local path that must exist. */
async function sourceOf(argument: string, cwd: string): Promise<string> {
  if (/^(https?|file):\/\//.test(argument) || argument.startsWith('hf:')) return argument;
  const { resolve } = await import('node:path');
  const { stat } = await import('node:fs/promises');
  const path = resolve(cwd, argument);
  if (!(await stat(path).catch(() => undefined))) {
    throw new InputError(`unknown model "${argument}": not a zoo model (${zooNames()}), and there is no file or folder ${path}`);
  }
  return path;
}

export interface ResolveModelOptions extends LoadOptions {
  /** The folder relative paths start from. */
  cwd: string;
}

/** Loads what `argument` names (zoo name | folder | URL | hf: id) as a Tokenizer or Generator. */
export async function loadModelArgument(argument: string, options: ResolveModelOptions): Promise<LoadedModel> {
  const { cwd, ...load } = options;
  const card = isPretrainedName(argument) ? pretrainedCard(argument) : undefined;
  const source = card ? pretrainedSource(card.name) : await sourceOf(argument, cwd);
  const architecture = await sniffArchitecture(source, load);
  const where = typeof source === 'string' ? source : String(source);
  switch (architecture) {
    case 'maskgit':
      return { kind: 'generator', architecture, model: await loadMaskGIT(source, load), source: where, card };
    case 'maskgit-vqgan':
      return { kind: 'tokenizer', architecture, model: await loadMaskGitVqgan(source, load), source: where, card };
    case 'titok':
      return { kind: 'tokenizer', architecture, model: await loadTiTok(source, load), source: where, card };
    case 'magvit2':
      return { kind: 'tokenizer', architecture, model: await loadMagvit2(source, load), source: where, card };
  }
}

async function sniffArchitecture(source: ModelSource, options: LoadOptions): Promise<Architecture> {
  const opened = await openModel(source, options);
  const { config, configWhere } = opened;
  const weightNames = opened.weights.entries.map((e) => e.name);
  await opened.close();
  const architecture = architectureOf(config, weightNames);
  if (!architecture) {
    throw new InputError(
      `${String(source)} is not a model vtok knows: ${config === undefined ? 'it has no config.json' : `${configWhere ?? 'its config'} is not a MaskGIT-VQGAN, TiTok, MAGVIT-v2 or MaskGIT config`}; zoo models: ${zooNames()}`,
    );
  }
  return architecture;
}

/** Loads a model that must be a tokenizer (or a generator), with a clear input error otherwise. */
export async function loadTokenizerArgument(argument: string, options: ResolveModelOptions): Promise<Extract<LoadedModel, { kind: 'tokenizer' }>> {
  const loaded = await loadModelArgument(argument, options);
  if (loaded.kind !== 'tokenizer') {
    loaded.model.dispose();
    throw new InputError(`${argument} is a ${loaded.architecture} generator; this needs a tokenizer (e.g. ${zooTokenizer()})`);
  }
  return loaded;
}

export async function loadGeneratorArgument(argument: string, options: ResolveModelOptions): Promise<Extract<LoadedModel, { kind: 'generator' }>> {
  const loaded = await loadModelArgument(argument, options);
  if (loaded.kind !== 'generator') {
    loaded.model.dispose();
    throw new InputError(`${argument} is a ${loaded.architecture} tokenizer; this needs a generator (e.g. ${zooGenerator()})`);
  }
  return loaded;
}

const zooTokenizer = () => listPretrained().find((c) => c.kind === 'tokenizer')?.name ?? 'a tokenizer folder';
const zooGenerator = () => listPretrained().find((c) => c.kind === 'generator')?.name ?? 'a generator folder';

/** Tokens, bits per token and bytes per image of a token space (packed as in the token file). */
export function tokenBudget(tokens: { vocabSize: number; shape: readonly number[] }) {
  return { tokensPerImage: tokensPerEntry(tokens.shape), bitsPerToken: bitsPerToken(tokens.vocabSize), bytesPerImage: bytesPerEntry(tokens.shape, tokens.vocabSize) };
}
