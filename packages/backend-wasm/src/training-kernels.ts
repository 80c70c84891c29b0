/**
 * The gradient kernels training needs, on wasm itself: those tfjs-wasm 4.22 lacks (they would run on
 * the pure-JS cpu fallback, ~50× slower or worse) and those it computes wrongly. One module per kernel
 * family; this one registers them all, before fillMissingWasmKernels so the cpu fill does not take them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilter, conv3DBackpropFilterV2, conv3DBackpropInputV2 } from './conv-backprop';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-backprop';
import { forgetCpuFallback } from './fallback';
import { maxPoolGrad } from './pool-grad';
import { segmentSumOnHeap } from './segment-sum';

/** Each kernel, and why it is here. */
const kernels: Record<string, { kernelFunc: tf.KernelFunc; why: 'missing' | 'wrong' }> = {
  Conv2DBackpropFilter: { kernelFunc: conv2DBackpropFilter, why: 'missing' },
  Conv3DBackpropFilterV2: { kernelFunc: conv3DBackpropFilterV2, why: 'wrong' },
  Conv3DBackpropInputV2: { kernelFunc: conv3DBackpropInputV2, why: 'wrong' },
  DepthwiseConv2dNativeBackpropFilter: { kernelFunc: depthwiseConv2dNativeBackpropFilter, why: 'missing' },
  DepthwiseConv2dNativeBackpropInput: { kernelFunc: depthwiseConv2dNativeBackpropInput, why: 'missing' },
  MaxPoolGrad: { kernelFunc: maxPoolGrad, why: 'wrong' },
  UnsortedSegmentSum: { kernelFunc: segmentSumOnHeap, why: 'missing' },
};

/** The kernels `registerWasmTrainingKernels` puts on 'wasm': lacking in tfjs-wasm 4.22, or wrong there. */
export const wasmTrainingKernels: Readonly<Record<string, 'missing' | 'wrong'>> = Object.fromEntries(
  Object.entries(kernels).map(([name, k]) => [name, k.why]),
);

let registered = false;

/**
 * Registers the training kernels on 'wasm', replacing tfjs-wasm's own where it has a wrong one and a
 * cpu fallback where one was filled already (idempotent). Returns their names.
 */
export function registerWasmTrainingKernels(): string[] {
  if (!registered) {
    for (const [kernelName, { kernelFunc }] of Object.entries(kernels)) {
      if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
      forgetCpuFallback(kernelName);
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    }
    registered = true;
  }
  return Object.keys(kernels).sort();
}
