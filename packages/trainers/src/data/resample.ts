/**
 * Resampling an HWC float image on the CPU, separably (rows, then columns). When shrinking, the filter is
 * stretched by the scale factor so every input pixel contributes (antialiasing, as PIL and torchvision's
 * `antialias=True` do); taps past the border are left out and the weights renormalised. Cubic is Keys'
 * kernel with a = -0.5, the bicubic of the official recipes' `transforms.Resize`.
 */
export type ResampleFilter = 'cubic' | 'linear';

const A = -0.5;

function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
  if (t < 2) return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
  return 0;
}

const linear = (x: number): number => Math.max(0, 1 - Math.abs(x));

const FILTERS: Record<ResampleFilter, { fn: (x: number) => number; support: number }> = {
  cubic: { fn: cubic, support: 2 },
  linear: { fn: linear, support: 1 },
};

/** For each output pixel along one axis: its first input pixel and the weights of the taps from there. */
function axisWeights(inSize: number, outSize: number, filter: ResampleFilter): { first: Int32Array; weights: Float64Array[] } {
  const { fn, support } = FILTERS[filter];
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const radius = support * stretch;
  const first = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - radius));
    const hi = Math.min(inSize, Math.ceil(center + radius));
    const w = new Float64Array(hi - lo);
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      w[j - lo] = fn((j + 0.5 - center) / stretch);
      sum += w[j - lo];
    }
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    first[o] = lo;
    weights.push(w);
  }
  return { first, weights };
}

/**
 * `image` ([h, w, c], row-major) resampled to [outH, outW, c], values clamped to [0, 1] (cubic overshoots
 * at edges). Same size in and out returns a copy.
 */
export function resample(image: Float32Array, h: number, w: number, c: number, outH: number, outW: number, filter: ResampleFilter): Float32Array {
  if (outH === h && outW === w) return image.slice();
  // Along the width: [h, w, c] -> [h, outW, c], in float64 until the end.
  const xs = axisWeights(w, outW, filter);
  const rows = new Float64Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const wts = xs.weights[x];
      const out = (y * outW + x) * c;
      for (let k = 0; k < wts.length; k++) {
        const at = (y * w + xs.first[x] + k) * c;
        for (let ch = 0; ch < c; ch++) rows[out + ch] += wts[k] * image[at + ch];
      }
    }
  }
  // Along the height: [h, outW, c] -> [outH, outW, c].
  const ys = axisWeights(h, outH, filter);
  const result = new Float32Array(outH * outW * c);
  const rowLength = outW * c;
  for (let y = 0; y < outH; y++) {
    const wts = ys.weights[y];
    for (let i = 0; i < rowLength; i++) {
      let v = 0;
      for (let k = 0; k < wts.length; k++) v += wts[k] * rows[(ys.first[y] + k) * rowLength + i];
      result[y * rowLength + i] = Math.min(1, Math.max(0, v));
    }
  }
  return result;
}
