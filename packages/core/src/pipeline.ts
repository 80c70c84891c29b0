/** Pairs a tokenizer with a generator after checking that they speak the same token space. */
import type * as tf from '@tensorflow/tfjs-core';
import type { Generator, SampleOptions, TokenSpace, Tokenizer } from './contracts';
import { TokenSpaceMismatchError } from './errors';

export interface Pipeline {
  readonly tokenizer: Tokenizer;
  readonly generator: Generator;
  readonly tokens: TokenSpace;
  /** Samples tokens with the generator and decodes them: float32 images `[B, ...]` in [0,1]. */
  generate(options: SampleOptions): Promise<tf.Tensor>;
  /** Encodes and decodes images through the tokenizer. */
  reconstruct(images: tf.Tensor): Promise<tf.Tensor>;
}

export const describeTokenSpace = (t: TokenSpace): string => `vocabulary ${t.vocabSize}, shape [${t.shape.join(', ')}]`;

/** Differences between two token spaces in words; empty when they agree. */
export function tokenSpaceDifferences(a: TokenSpace, b: TokenSpace, names: [string, string] = ['a', 'b']): string[] {
  const diffs: string[] = [];
  if (a.vocabSize !== b.vocabSize) {
    diffs.push(`vocabulary size: ${names[0]} has ${a.vocabSize}, ${names[1]} has ${b.vocabSize}`);
  }
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    diffs.push(`token shape: ${names[0]} has [${a.shape.join(', ')}], ${names[1]} has [${b.shape.join(', ')}]`);
  }
  return diffs;
}

export function composePipeline({ tokenizer, generator }: { tokenizer: Tokenizer; generator: Generator }): Pipeline {
  const diffs = tokenSpaceDifferences(tokenizer.tokens, generator.tokens, ['the tokenizer', 'the generator']);
  if (diffs.length) {
    throw new TokenSpaceMismatchError(
      `the tokenizer (${describeTokenSpace(tokenizer.tokens)}) and the generator (${describeTokenSpace(generator.tokens)}) ` +
        `do not share a token space: ${diffs.join('; ')}`,
    );
  }
  return {
    tokenizer,
    generator,
    tokens: tokenizer.tokens,
    async generate(options) {
      const tokens = await generator.sample(options);
      try {
        return await tokenizer.decode(tokens);
      } finally {
        tokens.dispose();
      }
    },
    async reconstruct(images) {
      const tokens = await tokenizer.encode(images);
      try {
        return await tokenizer.decode(tokens);
      } finally {
        tokens.dispose();
      }
    },
  };
}
