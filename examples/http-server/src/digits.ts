/**
 * The zoo's digits models as one pipeline: digits-vqgan (32×32 RGB digit ↔ 8×8 tokens) and
 * digits-maskgit (class-conditional MaskGIT over those tokens), with the sampler settings its model
 * card recommends.
 */
import { composePipeline, type Pipeline } from '@vtok/core';
import { loadPretrained, pretrainedCard } from '@vtok/zoo';
import type { SamplingSettings } from './server';

export interface DigitsPipeline {
  pipeline: Pipeline;
  sampling: SamplingSettings;
  /** Steps the model card recommends. */
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
    const { sampling } = pretrainedCard('digits-maskgit');
    return {
      pipeline: composePipeline({ tokenizer, generator }),
      sampling: { guidanceScale: sampling?.guidanceScale, randomizeTemperature: sampling?.randomizeTemperature },
      steps: sampling?.steps ?? 8,
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
