// Small datasets for the data tests: every pixel tells which example it came from, and a dataset whose
// get() resolves only when the test says so (prefetch is checked with counters, not with the clock).
import type { Dataset, ImageExample } from '../src';

/** Example i: a 2×3×1 image whose pixels are (i + p/6) / n for pixel p, label i % 4. */
export function indexedImages(n: number, options: { labels?: boolean } = {}): Dataset<ImageExample> {
  return {
    length: n,
    async get(i) {
      const image = Float32Array.from({ length: 6 }, (_, p) => (i + p / 6) / n);
      return options.labels === false ? { image, shape: [2, 3, 1] } : { image, shape: [2, 3, 1], label: i % 4 };
    },
  };
}

/** The dataset index an image of `indexedImages(n)` came from (its first pixel times n). */
export const indexOfImage = (pixels: ArrayLike<number>, offset: number, n: number): number => Math.round(pixels[offset] * n);

export interface GatedDataset {
  dataset: Dataset<ImageExample>;
  /** Indices get() was called with, in call order. */
  readonly calls: number[];
  /** How many get() promises have resolved. */
  resolved(): number;
  /** Resolves the pending get(i) calls for these indices (the call may come later: it then resolves at once). */
  release(...indices: number[]): void;
  /** Makes get(i) reject with this error once released. */
  failAt(index: number, error: Error): void;
}

export function gatedDataset(n: number): GatedDataset {
  const calls: number[] = [];
  const released = new Set<number>();
  const waiting = new Map<number, () => void>();
  const failures = new Map<number, Error>();
  let resolvedCount = 0;
  const inner = indexedImages(n);
  return {
    calls,
    resolved: () => resolvedCount,
    release(...indices) {
      for (const i of indices) {
        released.add(i);
        waiting.get(i)?.();
        waiting.delete(i);
      }
    },
    failAt: (index, error) => failures.set(index, error),
    dataset: {
      length: n,
      get(i) {
        calls.push(i);
        return new Promise<ImageExample>((resolve, reject) => {
          const go = () => {
            const failure = failures.get(i);
            if (failure) reject(failure);
            else
              void inner.get(i).then((e) => {
                resolvedCount += 1;
                resolve(e);
              });
          };
          if (released.has(i)) go();
          else waiting.set(i, go);
        });
      },
    },
  };
}

/** Lets pending promise callbacks and timers run. */
export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
