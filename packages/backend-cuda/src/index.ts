export { cuda, explainLoadFailure, cudaInstall, cudaRequirements, tfjsNodeGpuPackage, type CudaOptions, type CudaBackend } from './cuda';
