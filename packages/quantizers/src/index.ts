// @vtok/quantizers: each quantizer registers itself with @vtok/core's quantizer registry on import.
// The registrations are imported for their side effect here, so that a bare `import '@vtok/quantizers'`
// registers them even in bundlers that drop unused re-exports.
import './vq/register';
import './lfq/register';
import './fsq/register';
export * from './common';
export * from './vq';
export * from './lfq';
export * from './fsq';
export { TokenFactorization, type TokenFactorizationConfig } from './factorize';
