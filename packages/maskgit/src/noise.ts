/**
 * Where the sampler's Gumbel noise comes from. The official `generate()` draws two Gumbel tensors per
 * step from torch's RNG, which cannot be reproduced outside PyTorch; vtok draws them on the CPU from a
 * SeededRandom (the same numbers on every backend) or from a function the caller injects.
 */
import { SeededRandom, ShapeError } from '@vtok/core';

export interface GumbelRequest {
  /** 0-based decoding step. */
  step: number;
  /**
   * 'tokens': added (times the temperature) to the logits before the argmax, shape [B, L, K];
   * 'confidence': added to the sampled logits before ranking them, shape [B, L].
   */
  kind: 'tokens' | 'confidence';
  shape: readonly number[];
}

/**
 * Returns Gumbel(0, 1) noise, −log(−log u), row-major, with exactly `shape`'s element count. Called at
 * most twice per step, tokens first; not called at all when that step's temperature is 0 (the noise
 * would be multiplied by 0).
 */
export type GumbelNoise = (request: GumbelRequest) => Float32Array;

/** One SeededRandom stream consumed in call order: the same seed gives the same samples. */
export function seededGumbelNoise(seed: number): GumbelNoise {
  const rng = new SeededRandom(seed);
  return ({ shape }) => rng.gumbelArray(shape.reduce((a, b) => a * b, 1));
}

/** Calls `noise` and checks what came back. */
export function drawGumbel(noise: GumbelNoise, request: GumbelRequest): Float32Array {
  const size = request.shape.reduce((a, b) => a * b, 1);
  const out = noise(request);
  if (!(out instanceof Float32Array) || out.length !== size) {
    const got = out instanceof Float32Array ? `${out.length} values` : String(out);
    throw new ShapeError(
      `the noise source must return a Float32Array of ${size} values for step ${request.step} '${request.kind}' noise [${request.shape.join(', ')}], got ${got}`,
    );
  }
  return out;
}
