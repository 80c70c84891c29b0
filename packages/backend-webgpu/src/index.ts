export { webgpu, describeAdapter, isSoftwareAdapter, installWebGPUForNode, type WebGPUOptions, type WebGPUBackendPlugin } from './webgpu';
export { diagnoseVulkan, debianSwiftShaderIcd, debianChromiumLibDir, type VulkanDiagnosis } from './diagnose';
export type { GpuLike, GpuAdapterLike, GpuAdapterInfoLike } from './gpu-types';
