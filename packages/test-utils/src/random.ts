/** Seeded test data, independent of the library's own SeededRandom (so a bug there cannot hide in the inputs). */

export interface TestRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** `count` normals times `scale`, rounded to float32 so that tfjs and a float64 reference see the same input. */
  normals(count: number, scale?: number): Float64Array;
}

/** mulberry32: a small, fast, seeded generator. */
export function prng(seed: number): TestRandom {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(next(), 1e-12))) * Math.cos(2 * Math.PI * next());
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    normal,
    normals: (count, scale = 1) => Float64Array.from({ length: count }, () => Math.fround(scale * normal())),
  };
}

/** `count` seeded N(0, scale²) values rounded to float32 (`prng(seed).normals(count, scale)`). */
export function normals(count: number, seed: number, scale = 1): Float64Array {
  return prng(seed).normals(count, scale);
}

/**
 * Central differences (f(x + h·e_i) − f(x − h·e_i)) / 2h of a scalar function of a flat float64 vector,
 * evaluated in place (x is restored).
 */
export function centralDifferences(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}
