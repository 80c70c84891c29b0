/**
 * The two models the demo runs, from @vtok/zoo: the digits tokenizer and the class-conditional MaskGIT
 * over its tokens (whose config carries the model card's recommended sampling settings as defaults).
 */
import type { LoadProgressEvent } from '@vtok/core';
import type { MaskGITGenerator } from '@vtok/maskgit';
import type { MaskGitVqgan } from '@vtok/titok';
import { loadPretrained } from '@vtok/zoo';

export interface DigitModels {
  tokenizer: MaskGitVqgan;
  generator: MaskGITGenerator;
}

export async function loadDigitModels(onProgress: (event: LoadProgressEvent) => void): Promise<DigitModels> {
  const tokenizer = await loadPretrained('digits-vqgan', { onProgress });
  const generator = await loadPretrained('digits-maskgit', { onProgress });
  return { tokenizer, generator };
}
