/**
 * Float64 references for the LFQ/FSQ tests, written literally after the official formulas: the full
 * [N, K] softmax over every code (no factorisation), the eps handling of each implementation, and
 * central finite differences. Small K only.
 */
export type Formula = 'open-magvit2' | 'lucidrains';
const EPS = 1e-5;

export interface LfqRefOptions {
  invTemperature: number;
  codebookScale: number;
  formula: Formula;
  /** Bits per codebook-entropy group over consecutive channels; [d] = the official full entropy. */
  groups: number[];
  entropyLossWeight: number;
  commitmentLossWeight: number;
  diversityGamma: number;
  sampleMinimizationWeight: number;
}

export interface LfqRefLosses {
  perSampleEntropy: number;
  codebookEntropy: number;
  commitment: number;
  aux: number;
}

/** All 2^m codes of m channels, ±s, code j has channel k = +s iff bit k of j is set. */
function codes(m: number, s: number): number[][] {
  return Array.from({ length: 2 ** m }, (_, j) => Array.from({ length: m }, (_, k) => ((j >> k) & 1 ? s : -s)));
}

/** softmax_j(2·invT·⟨z, c_j⟩) over the given codes, for one token z, literally (max-subtracted). */
export function softAssignment(z: ArrayLike<number>, cs: number[][], invT: number): number[] {
  const logits = cs.map((c) => 2 * invT * c.reduce((acc, ci, k) => acc + ci * z[k], 0));
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const e = logits.map((l) => Math.exp(l - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** Entropy of one distribution with the official eps handling; `exact` = no eps (log_softmax). */
function entropy(p: number[], log: (q: number) => number): number {
  return -p.reduce((acc, q) => acc + (q > 0 ? q * log(q) : 0), 0);
}
const logExact = (q: number) => Math.log(q);
const logClamp = (q: number) => Math.log(Math.max(q, EPS));
const logAddEps = (q: number) => Math.log(q + EPS);

/** The LFQ losses of tokens z (rows of length d) by the literal official formulas. */
export function lfqLossesRef(z: number[][], o: LfqRefOptions): LfqRefLosses {
  const d = z[0].length;
  const n = z.length;
  const full = codes(d, o.codebookScale);
  const perSampleLog = o.formula === 'lucidrains' ? logClamp : logExact;
  let perSampleEntropy = 0;
  for (const row of z) perSampleEntropy += entropy(softAssignment(row, full, o.invTemperature), perSampleLog) / n;

  const batchLog = o.formula === 'lucidrains' ? logClamp : logAddEps;
  let codebookEntropy = 0;
  let start = 0;
  for (const m of o.groups) {
    const cs = codes(m, o.codebookScale);
    const avg = new Array<number>(cs.length).fill(0);
    for (const row of z) {
      const p = softAssignment(row.slice(start, start + m), cs, o.invTemperature);
      p.forEach((v, j) => (avg[j] += v / n));
    }
    codebookEntropy += entropy(avg, batchLog);
    start += m;
  }

  let commitment = 0;
  if (o.commitmentLossWeight > 0) {
    for (const row of z) for (const v of row) commitment += (v - (v > 0 ? o.codebookScale : -o.codebookScale)) ** 2 / (n * d);
  }
  const aux =
    o.entropyLossWeight * (o.sampleMinimizationWeight * perSampleEntropy - o.diversityGamma * codebookEntropy) +
    o.commitmentLossWeight * commitment;
  return { perSampleEntropy, codebookEntropy, commitment, aux };
}

/** Rows of a flat [n, d] array. */
export function rows(flat: ArrayLike<number>, d: number): number[][] {
  return Array.from({ length: flat.length / d }, (_, i) => Array.from({ length: d }, (_, k) => flat[i * d + k]));
}

/** FSQ bounding function of one value for L levels (float64), and its derivative. */
export function fsqBound(z: number, levels: number): { bounded: number; derivative: number } {
  const halfL = ((levels - 1) * (1 + 1e-3)) / 2;
  const offset = levels % 2 === 0 ? 0.5 : 0;
  const shift = Math.atanh(offset / halfL);
  const t = Math.tanh(z + shift);
  return { bounded: t * halfL - offset, derivative: (1 - t * t) * halfL };
}
