/**
 * The zoo's digits models as one pipeline: digits-vqgan (32×32 RGB digit ↔ 64 tokens) and
 * digits-maskgit (class-conditional MaskGIT over those tokens). The generator's config already holds
 * the sampler settings its model card recommends (guidance, temperature, steps), so requests use them.
 */
import { composePipeline, type Pipeline } from '@vtok/core';
import { loadPretrained, pretrainedCard } from '@vtok/zoo';

export interface DigitsPipeline {
  pipeline: Pipeline;
  /** The steps the model card recommends. */
  steps: number;
  dispose(): void;
}

export async function loadDigitsPipeline(): Promise<DigitsPipeline> {
  const tokenizer = await loadPretrained('digits-vqgan');
  const generator = await loadPretrained('digits-maskgit').catch((error: unknown) => {
    tokenizer.dispose();
    throw error;
  });
  const dispose = () => {
    tokenizer.dispose();
    generator.dispose();
  };
  try {
    return { pipeline: composePipeline({ tokenizer, generator }), steps: pretrainedCard('digits-maskgit').sampling?.steps ?? 8, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
