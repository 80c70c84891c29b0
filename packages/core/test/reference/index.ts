export * from './ndarray';
export * as M from './math';
export * as ref from './ops';
export * as refLayers from './layers';
export { numericGrad } from './gradcheck';
