import './gradients';
export * from './errors';
export * from './validate';
export { inBatches } from './batching';
export * from './contracts';
export * from './progress';
export * from './module';
export * from './registry';
export * from './pipeline';
export * from './random';
export * from './backend/cpu';
export * from './backend/select';
export { hostCpuDescription } from './backend/host';

export * from './safetensors';
export * from './torch';
export * from './ops';
export * from './layers';
export * from './io';
