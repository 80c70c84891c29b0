export { wasm, nodeWasmFolder, type WasmOptions, type WasmBackend, type WasmBinaryName } from './wasm';
export {
  fillMissingWasmKernels,
  missingWasmKernels,
  cpuFallbackKernels,
  cpuFallbackLiveTensors,
  cpuFallbackCalls,
  resetCpuFallbackCalls,
  unfillableWasmKernels,
  brokenWasmKernels,
  type WasmKernelFill,
} from './fallback';
export { patchWasmFusedMatMul } from './fused-matmul';
export { patchWasmBatchMatMul } from './batch-matmul';
export { patchWasmSlice } from './slice';
export { registerWasmGroupMoments, groupMomentsInto } from './group-moments';
export { registerWasmTrainingKernels, wasmTrainingKernels } from './training-kernels';
