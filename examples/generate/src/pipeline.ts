/**
 * Loads a tokenizer and a MaskGIT generator from checkpoint folders (or URL prefixes, or file maps) and
 * pairs them with core's composePipeline, which refuses a pair that does not share a token space.
 */
import { composePipeline, ConfigError, type ModelSource, type Pipeline, type Tokenizer } from '@vtok/core';
import { loadMagvit2 } from '@vtok/magvit2';
import { loadMaskGIT, type MaskGITGenerator } from '@vtok/maskgit';
import { loadTiTok } from '@vtok/titok';

export const TOKENIZER_KINDS = ['titok', 'magvit2'] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];

export interface PipelineSources {
  /** 'titok': a TiTok hub folder (config.json + model.safetensors); 'magvit2': an Open-MAGVIT2 folder. */
  tokenizer: { kind: TokenizerKind; source: ModelSource };
  /** A MaskGIT generator folder (config.json + model.safetensors, or the official .bin). */
  generator: ModelSource;
}

export interface GenerationPipeline extends Pipeline {
  readonly generator: MaskGITGenerator;
  /** Frees both models' weights. */
  dispose(): void;
}

async function loadTokenizer({ kind, source }: PipelineSources['tokenizer']): Promise<Tokenizer> {
  if (kind === 'titok') return loadTiTok(source);
  if (kind === 'magvit2') return loadMagvit2(source);
  throw new ConfigError(`unknown tokenizer kind '${String(kind)}': expected one of ${TOKENIZER_KINDS.join(', ')}`);
}

/** Pairs models already in memory; the caller keeps ownership unless it calls `dispose()`. */
export function pairModels(tokenizer: Tokenizer, generator: MaskGITGenerator): GenerationPipeline {
  const pipeline = composePipeline({ tokenizer, generator });
  return {
    ...pipeline,
    generator,
    dispose() {
      tokenizer.dispose();
      generator.dispose();
    },
  };
}

export async function loadPipeline(sources: PipelineSources): Promise<GenerationPipeline> {
  const tokenizer = await loadTokenizer(sources.tokenizer);
  let generator: MaskGITGenerator | undefined;
  try {
    generator = await loadMaskGIT(sources.generator);
    return pairModels(tokenizer, generator);
  } catch (error) {
    // A generator that fails to load or does not fit the tokenizer leaves nothing allocated behind.
    tokenizer.dispose();
    generator?.dispose();
    throw error;
  }
}

