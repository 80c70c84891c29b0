/**
 * A minimal float64 n-d array for the reference implementations: a shape and a row-major
 * Float64Array. Nothing here uses tfjs, so the reference cannot share a bug with the code under test.
 */
export interface NDArray {
  shape: number[];
  data: Float64Array;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function zeros(shape: number[]): NDArray {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
}

export function fromArray(shape: number[], values: ArrayLike<number>): NDArray {
  if (values.length !== sizeOf(shape)) throw new Error(`fromArray: ${values.length} values for shape [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(values) };
}

export function clone(a: NDArray): NDArray {
  return { shape: [...a.shape], data: new Float64Array(a.data) };
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Flat offset of a multi-index. */
export function offset(shape: readonly number[], index: readonly number[]): number {
  let o = 0;
  for (let i = 0; i < shape.length; i++) o = o * shape[i] + index[i];
  return o;
}

/** Multi-index of a flat offset. */
export function unravel(shape: readonly number[], flat: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

export function reshape(a: NDArray, shape: number[]): NDArray {
  if (sizeOf(shape) !== a.data.length) throw new Error(`reshape: [${a.shape}] to [${shape}]`);
  return { shape: [...shape], data: a.data };
}

export function map(a: NDArray, f: (v: number, i: number) => number): NDArray {
  const out = zeros(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = f(a.data[i], i);
  return out;
}

export function add(a: NDArray, b: NDArray): NDArray {
  if (a.data.length !== b.data.length) throw new Error('add: size mismatch');
  return map(a, (v, i) => v + b.data[i]);
}

export function maxAbs(a: NDArray | Float64Array | Float32Array): number {
  const d = 'data' in a ? a.data : a;
  let m = 0;
  for (let i = 0; i < d.length; i++) m = Math.max(m, Math.abs(d[i]));
  return m;
}

/** Σ a·b, the scalar loss whose gradient the gradient checks compare. */
export function dot(a: NDArray, b: NDArray): number {
  if (a.data.length !== b.data.length) throw new Error(`dot: sizes ${a.data.length} and ${b.data.length}`);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

/**
 * Deterministic float32-representable random numbers (a small LCG + Box–Muller, independent of the
 * library's SeededRandom): the float64 reference and the float32 tensors then see the same inputs.
 */
export class RefRandom {
  private state: number;
  constructor(seed: number) {
    this.state = (seed >>> 0) || 1;
  }
  uniform(): number {
    // Numerical Recipes LCG; 24 good bits are plenty for test data.
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return (this.state >>> 8) / 2 ** 24;
  }
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  array(shape: number[], scale = 1): NDArray {
    const a = zeros(shape);
    for (let i = 0; i < a.data.length; i++) a.data[i] = Math.fround(scale * this.normal());
    return a;
  }
  uniformArray(shape: number[], low: number, high: number): NDArray {
    const a = zeros(shape);
    for (let i = 0; i < a.data.length; i++) a.data[i] = Math.fround(low + (high - low) * this.uniform());
    return a;
  }
}
