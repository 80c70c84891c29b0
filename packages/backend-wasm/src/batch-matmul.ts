/**
 * Speed, not correctness: tfjs-wasm 4.22's BatchMatMul runs its fast (XNNPACK) path only for an
 * untransposed, unbatched right operand. Measured on one core of the 2-core CI machine: x·Wᵀ for
 * [257,768]·[2304,768]ᵀ runs at 2.8 GFLOP/s against 26 for x·W, and 12 attention heads
 * [12,257,257]·[12,257,64] at 1.6 GFLOP/s against 13 for one 2D head. This wrapper materialises
 * transposed operands (O(n²) copies against O(n³) work), folds a batched left operand times an
 * unbatched right one into one 2D product, and splits equal-batch products into 2D products, so
 * every product takes the fast path. Batch entries are copied in and out of the wasm heap directly:
 * tfjs-wasm's Slice and Concat kernels run element by element in JavaScript (8.8 ms to slice one
 * [257,257] block out of [12,257,257]).
 *
 * A linear layer's x·Wᵀ (W [out, in], few rows in x) is the common case where transposing W costs
 * more than the product's other copies: W must be copied transposed and then packed by XNNPACK on
 * every call (a new tensor each time, so XNNPACK's per-weight cache never hits), 11 of 39 ms on one
 * core for [257,768]·[2304,768]ᵀ. Computed as (W·xᵀ)ᵀ instead, only x and the output are copied
 * (2 ms): the wrapper picks whichever moves fewer elements (`swapIsCheaper`).
 */
import * as tf from '@tensorflow/tfjs-core';

let patched = false;

/** The wasm backend's own view of its heap (an internal of tfjs-backend-wasm 4.22, checked at patch time). */
type WasmHeapBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * dst = src with its last two axes swapped, in 32×32 tiles so both sides stay in cache. Plain
 * JavaScript on the heap views is ~7× faster here than tfjs-wasm's Transpose kernel
 * (4 ms against 29 ms for a 2304×768 weight).
 */
export function transposeLastTwo(
  src: Float32Array | Int32Array | Uint8Array,
  dst: Float32Array | Int32Array | Uint8Array,
  batch: number,
  rows: number,
  cols: number,
): void {
  const tile = 32;
  for (let b = 0; b < batch; b++) {
    const base = b * rows * cols;
    for (let i0 = 0; i0 < rows; i0 += tile) {
      const i1 = Math.min(rows, i0 + tile);
      for (let j0 = 0; j0 < cols; j0 += tile) {
        const j1 = Math.min(cols, j0 + tile);
        for (let i = i0; i < i1; i++) {
          let s = base + i * cols + j0;
          let d = base + j0 * rows + i;
          for (let j = j0; j < j1; j++, s++, d += rows) dst[d] = src[s];
        }
      }
    }
  }
}

/**
 * Whether x·Wᵀ (x with `rows` rows of `k`, W [n, k]) is cheaper as (W·xᵀ)ᵀ. Counted in element
 * moves: transposing W costs a copy and XNNPACK's packing of k·n elements (about 3× a plain copy,
 * measured); the swap copies and packs xᵀ (rows·k) and copies the result back (rows·n).
 */
export function swapIsCheaper(rows: number, k: number, n: number): boolean {
  const packAndCopy = 3;
  return rows * (packAndCopy * k + n) < packAndCopy * k * n;
}

/** Wraps `BatchMatMul` on 'wasm' (idempotent). Returns whether the wrapper is in place. */
export function patchWasmBatchMatMul(): boolean {
  if (patched) return true;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  if (!original || !transposeKernel) return false;

  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ({ inputs, backend: untypedBackend, attrs }) => {
      const backend = untypedBackend as WasmHeapBackend;
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      // The heap views are an internal of tfjs-wasm; without them, fall back to its own kernels.
      const onHeap = typeof backend.typedArrayFromHeap === 'function';
      const made: tf.TensorInfo[] = [];
      const plain = { ...attrs, transposeA: false, transposeB: false };
      const swapLastTwo = (x: tf.TensorInfo) => {
        const r = x.shape.length;
        if (!onHeap) {
          const out = transposeKernel.kernelFunc({
            inputs: { x },
            backend,
            attrs: { perm: [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2] },
          }) as tf.TensorInfo;
          made.push(out);
          return out;
        }
        const [rows, cols] = x.shape.slice(-2);
        const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
        made.push(out);
        transposeLastTwo(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), product(x.shape.slice(0, -2)), rows, cols);
        return out;
      };
      try {
        const aBatch = a.shape.slice(0, -2);
        const bBatch = b.shape.slice(0, -2);
        // An unbatched right operand (a weight) and an untransposed left one: the left operand's batch
        // axes fold into its rows (same memory), and one 2D product does it all.
        if (onHeap && !transposeA && product(bBatch) === 1) {
          const [m, k] = a.shape.slice(-2);
          const rows = product(aBatch) * m;
          const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
          const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch), m, n];
          const rowsOfA: tf.TensorInfo = { ...a, shape: [rows, k] };
          if (transposeB && swapIsCheaper(rows, k, n)) {
            // (b·aᵀ)ᵀ: b is used as it is, aᵀ and the result are copied.
            const aT = swapLastTwo(rowsOfA);
            const bByA = original.kernelFunc({ inputs: { a: b, b: aT }, backend, attrs: plain }) as tf.TensorInfo;
            made.push(bByA);
            const out = backend.makeOutput(outShape, a.dtype);
            transposeLastTwo(backend.typedArrayFromHeap(bByA), backend.typedArrayFromHeap(out), 1, n, rows);
            return out;
          }
          const out = original.kernelFunc({ inputs: { a: rowsOfA, b: transposeB ? swapLastTwo(b) : b }, backend, attrs: plain }) as tf.TensorInfo;
          return { ...out, shape: outShape };
        }
        // Many small products (attention's per-head scores and values): XNNPACK packs the right operand
        // on every call, which costs more than the product itself; plain loops over the heap do not.
        if (onHeap && product(aBatch) > 1 && sameDims(aBatch, bBatch)) {
          const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
          const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
          const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
          if (m * k * n <= SMALL_PRODUCT) {
            const out = backend.makeOutput([...aBatch, m, n], a.dtype);
            smallBatchedMatMul(backend.typedArrayFromHeap(a) as Float32Array, backend.typedArrayFromHeap(b) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, product(aBatch), m, k, n, transposeA, transposeB);
            return out;
          }
        }
        const A = transposeA ? swapLastTwo(a) : a;
        const B = transposeB ? swapLastTwo(b) : b;
        const batchDims = A.shape.slice(0, -2);
        const [m, k] = A.shape.slice(-2);
        const n = B.shape[B.shape.length - 1];
        const batch = product(batchDims);
        // Equal batches of more than one: one 2D product per batch entry, written into its place in the output.
        if (batch > 1 && sameDims(batchDims, B.shape.slice(0, -2)) && onHeap) {
          const block = (x: tf.TensorInfo, i: number, rows: number, cols: number): tf.TensorInfo => {
            const part = backend.makeOutput([rows, cols], x.dtype);
            // Views are taken after makeOutput: allocating may grow the heap and detach older views.
            backend.typedArrayFromHeap(part).set(backend.typedArrayFromHeap(x).subarray(i * rows * cols, (i + 1) * rows * cols));
            return part;
          };
          const out = backend.makeOutput([...batchDims, m, n], a.dtype);
          for (let i = 0; i < batch; i++) {
            const ai = block(A, i, m, k);
            const bi = block(B, i, k, n);
            const part = original.kernelFunc({ inputs: { a: ai, b: bi }, backend, attrs: plain }) as tf.TensorInfo;
            backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(part), i * m * n);
            // Freed per entry, so the extra memory is one batch entry, not a second copy of the inputs.
            for (const t of [ai, bi, part]) backend.disposeData(t.dataId);
          }
          return out;
        }
        if (!transposeA && !transposeB) return original.kernelFunc({ inputs, backend, attrs });
        return original.kernelFunc({ inputs: { a: A, b: B }, backend, attrs: plain });
      } finally {
        for (const t of made) backend.disposeData(t.dataId);
      }
    },
  });
  patched = true;
  return true;
}

/** Products with at most this many multiply-adds per batch entry take the loop path (see smallBatchedMatMul). */
export const SMALL_PRODUCT = 1 << 18;

/**
 * out[t] = op(a[t])·op(b[t]) for t < batch, op a transpose where asked; float32 accumulation in
 * i-k-j order, so the innermost loop walks a row of b (contiguous when b is not transposed).
 */
export function smallBatchedMatMul(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): void {
  const [aRow, aCol] = transposeA ? [1, m] : [k, 1];
  const [bRow, bCol] = transposeB ? [1, k] : [n, 1];
  for (let t = 0; t < batch; t++) {
    const a0 = t * m * k;
    const b0 = t * k * n;
    const o0 = t * m * n;
    out.fill(0, o0, o0 + m * n);
    for (let i = 0; i < m; i++) {
      const oi = o0 + i * n;
      for (let p = 0; p < k; p++) {
        const av = a[a0 + i * aRow + p * aCol];
        if (av === 0) continue;
        const bp = b0 + p * bRow;
        for (let j = 0; j < n; j++) out[oi + j] += av * b[bp + j * bCol];
      }
    }
  }
}
