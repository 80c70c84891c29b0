/**
 * A float64 VectorQuantizer in plain JavaScript, written from the official formulas, for checking values
 * and (through central differences) gradients. Rows are Float64Arrays of length d.
 */
export type Rows = Float64Array[];

export function rowsOf(data: ArrayLike<number>, d: number): Rows {
  const rows: Rows = [];
  for (let i = 0; i < data.length / d; i++) rows.push(Float64Array.from({ length: d }, (_, j) => data[i * d + j]));
  return rows;
}

export const flatten = (rows: Rows): Float64Array => {
  const out = new Float64Array(rows.length * (rows[0]?.length ?? 0));
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
};

export function normalize(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.max(Math.sqrt(s), 1e-12);
  return v.map((x) => x / n);
}

export function sqDist(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** Nearest code per latent, first index on ties; also the gap to the second nearest. */
export function nearest(z: Rows, codes: Rows): { indices: number[]; minGap: number } {
  let minGap = Infinity;
  const indices = z.map((v) => {
    let best = 0;
    let bestD = Infinity;
    let second = Infinity;
    codes.forEach((c, k) => {
      const dist = sqDist(v, c);
      if (dist < bestD) {
        second = bestD;
        bestD = dist;
        best = k;
      } else if (dist < second) second = dist;
    });
    minGap = Math.min(minGap, second - bestD);
    return best;
  });
  return { indices, minGap };
}

export interface RefVQ {
  indices: number[];
  quantized: Rows;
  commitment: number;
  codebook: number;
  total: number;
}

/** The official forward in float64. */
export function referenceVQ(z: Rows, weight: Rows, useL2Norm: boolean, beta: number): RefVQ {
  const zl = useL2Norm ? z.map(normalize) : z;
  const codes = useL2Norm ? weight.map(normalize) : weight;
  const { indices } = nearest(zl, codes);
  const quantized = indices.map((k) => codes[k]);
  let mse = 0;
  zl.forEach((v, i) => (mse += sqDist(v, quantized[i])));
  mse /= z.length * z[0].length;
  return { indices, quantized, commitment: beta * mse, codebook: mse, total: (1 + beta) * mse };
}
