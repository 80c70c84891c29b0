/**
 * Seeded order: each epoch's permutation, and each example's augmentation randomness, come from a stream
 * keyed by (seed, epoch[, index]) alone, so any position can be rebuilt without replaying what came before
 * it (exact resume) and an example's augmentation does not depend on batch size or prefetch.
 */
import { SeededRandom, ValueError } from '@vtok/core';

// Distinct tags keep the order stream and the augmentation streams apart for the same (seed, epoch).
const ORDER_STREAM = 0x6f726472;
const AUGMENT_STREAM = 0x61756720;

/** A 32-bit avalanche of one word into a running hash (murmur3's finalizer on h ^ word). */
function mix(h: number, word: number): number {
  let z = (h ^ word) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A generator for the given key; safe-integer parts enter with their low and high 32 bits. */
function streamOf(...parts: number[]): SeededRandom {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = mix(h, p >>> 0);
    h = mix(h, Math.floor(p / 2 ** 32) >>> 0);
  }
  return new SeededRandom(h);
}

/** A seed the data pipeline accepts: a safe integer (it is saved with checkpoints as JSON). */
export function assertSeed(seed: unknown, who: string): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ValueError(`${who}: seed must be a safe integer, got ${String(seed)}`);
  }
}

/** The order of epoch `epoch`: a seeded Fisher–Yates permutation of [0, length), or 0..length-1 unshuffled. */
export function epochOrder(length: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  if (!shuffle) return order;
  const random = streamOf(ORDER_STREAM, seed, epoch);
  for (let i = length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** The randomness an augmentation gets for dataset example `index` in epoch `epoch`. */
export function exampleRandom(seed: number, epoch: number, index: number): SeededRandom {
  return streamOf(AUGMENT_STREAM, seed, epoch, index);
}
