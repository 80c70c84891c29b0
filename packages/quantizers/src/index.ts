// @vtok/quantizers: each quantizer registers itself with @vtok/core's quantizer registry on import.
export * from './common';
export * from './vq';
export * from './lfq';
export * from './fsq';
export { TokenFactorization, type TokenFactorizationConfig } from './factorize';
