/**
 * Seeded randomness that gives the same numbers on every backend: values are drawn on the CPU
 * (xoshiro128** seeded through splitmix32) and uploaded, unlike tfjs ops whose streams differ by backend.
 */
import * as tf from '@tensorflow/tfjs-core';

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new TypeError(`seed must be a finite number, got ${seed}`);
    const next = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * The generator's whole state (four 32-bit words), so a run can be checkpointed and continued: a
   * generator rebuilt with `SeededRandom.fromState(r.state())` draws exactly what `r` would draw next.
   */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** A generator continuing from a `state()`; four unsigned 32-bit integers, not all zero. */
  static fromState(state: readonly number[]): SeededRandom {
    const ok = Array.isArray(state) && state.length === 4 && state.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
    if (!ok || state.every((w) => w === 0)) {
      throw new TypeError(`a SeededRandom state must be four unsigned 32-bit integers, not all zero; got ${JSON.stringify(state)}`);
    }
    const r = new SeededRandom(0);
    [r.s0, r.s1, r.s2, r.s3] = state as [number, number, number, number];
    return r;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform in the open interval (0, 1): safe under log. */
  nextOpen(): number {
    return (this.nextUint32() + 0.5) / 2 ** 32;
  }

  /** Standard normal (Box–Muller). */
  nextNormal(): number {
    return Math.sqrt(-2 * Math.log(this.nextOpen())) * Math.cos(2 * Math.PI * this.next());
  }

  /** An integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A seed for an independent stream (e.g. one per sampling step). */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11));
  }

  uniformArray(size: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = low + (high - low) * this.next();
    return out;
  }

  normalArray(size: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = mean + std * this.nextNormal();
    return out;
  }

  /** Gumbel(0,1) noise, −log(−log u), as the official MaskGIT sampler draws it. */
  gumbelArray(size: number): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = -Math.log(-Math.log(this.nextOpen()));
    return out;
  }

  uniform(shape: number[], low = 0, high = 1): tf.Tensor {
    return tf.tensor(this.uniformArray(sizeOf(shape), low, high), shape, 'float32');
  }

  normal(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(sizeOf(shape), mean, std), shape, 'float32');
  }

  gumbel(shape: number[]): tf.Tensor {
    return tf.tensor(this.gumbelArray(sizeOf(shape)), shape, 'float32');
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
