/** Scalar float64 functions for the reference. */

/**
 * erf to double precision: erf(x) = 2/√π · e^{−x²} · Σ_n (2x²)^n · x / (1·3·…·(2n+1)). Every term
 * is positive, so nothing cancels; beyond |x| = 6, 1 − |erf| < 3e-17 and ±1 is exact in float64.
 */
export function erf(x: number): number {
  if (x === 0) return 0;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  const x2 = 2 * ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 1000; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const silu = (x: number): number => x * sigmoid(x);
