/**
 * tfjs-wasm 4.22's `_FusedMatMul` adds the bias wrongly whenever an operand is transposed or the
 * matmul is batched: with a = [[1,2,3],[4,5,6]], b = I₃ plus a row of ones, transposeB and bias
 * [10,20,30,40] it returns [[11,22,33,46],[44,45,46,55]] instead of [[11,22,33,46],[14,25,36,55]].
 * And with an operand transposed or batched it runs tfjs-wasm's naive loop (a few GFLOP/s) instead
 * of XNNPACK. So only the plain 2D product goes to tfjs-wasm's fused kernel (right and fast there);
 * every other product goes through the BatchMatMul kernel on 'wasm' (this package's wrapper, which
 * reaches XNNPACK for every layout), followed by wasm's own Add and activation kernels.
 */
import * as tf from '@tensorflow/tfjs-core';

let patched = false;

interface FusedAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation: string;
  leakyreluAlpha?: number;
}

/** wasm kernels that apply each fused activation after the bias. */
function applyActivation(
  x: tf.TensorInfo,
  attrs: FusedAttrs,
  preluWeights: tf.TensorInfo | undefined,
  backend: tf.KernelBackend,
): tf.TensorInfo {
  const run = (name: string, inputs: tf.NamedTensorInfoMap, kernelAttrs: tf.NamedAttrMap = {}) => {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`_FusedMatMul on wasm: the ${name} kernel is missing`);
    return kernel.kernelFunc({ inputs, backend, attrs: kernelAttrs }) as tf.TensorInfo;
  };
  switch (attrs.activation) {
    case 'relu':
      return run('Relu', { x });
    case 'relu6':
      return run('Relu6', { x });
    case 'elu':
      return run('Elu', { x });
    case 'sigmoid':
      return run('Sigmoid', { x });
    case 'leakyrelu':
      return run('LeakyRelu', { x }, { alpha: attrs.leakyreluAlpha ?? 0.2 });
    case 'prelu':
      if (!preluWeights) throw new Error('_FusedMatMul on wasm: prelu needs preluActivationWeights');
      return run('Prelu', { x, alpha: preluWeights });
    default:
      throw new Error(`_FusedMatMul on wasm: unknown activation "${attrs.activation}"`);
  }
}

/** Wraps `_FusedMatMul` on 'wasm' (idempotent). Returns whether the wrapper is in place. */
export function patchWasmFusedMatMul(): boolean {
  if (patched) return true;
  const original = tf.getKernel('_FusedMatMul', 'wasm');
  const add = tf.getKernel('Add', 'wasm');
  if (!original || !add) return false;
  tf.unregisterKernel('_FusedMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ({ inputs, backend: untypedBackend, attrs }) => {
      const backend = untypedBackend as tf.KernelBackend;
      const { a, b, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo | undefined>;
      const fusedAttrs = attrs as unknown as FusedAttrs;
      const unbatched = (x: tf.TensorInfo) => x.shape.slice(0, -2).every((d) => d === 1);
      if (!fusedAttrs.transposeA && !fusedAttrs.transposeB && unbatched(a!) && unbatched(b!)) {
        return original.kernelFunc({ inputs, backend, attrs });
      }
      const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
      if (!batchMatMul) throw new Error('_FusedMatMul on wasm: the BatchMatMul kernel is missing');
      const made: tf.TensorInfo[] = [];
      try {
        const product = batchMatMul.kernelFunc({
          inputs: { a: a!, b: b! },
          backend,
          attrs: { transposeA: fusedAttrs.transposeA, transposeB: fusedAttrs.transposeB },
        }) as tf.TensorInfo;
        let y = product;
        if (bias) {
          made.push(y);
          y = add.kernelFunc({ inputs: { a: y, b: bias }, backend, attrs: {} }) as tf.TensorInfo;
        }
        if (fusedAttrs.activation === 'linear' || !fusedAttrs.activation) return y;
        made.push(y);
        return applyActivation(y, fusedAttrs, preluActivationWeights, backend);
      } finally {
        for (const t of made) backend.disposeData(t.dataId);
      }
    },
  });
  patched = true;
  return true;
}
