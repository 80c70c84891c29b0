export { registerLookupFreeQuantizer } from './register';

export { LookupFreeQuantizer, type LfqLosses } from './lookup-free-quantizer';
export {
  type LfqConfig,
  type ResolvedLfqConfig,
  type LfqBitOrder,
  type LfqEntropyFormula,
  LFQ_DEFAULTS,
  LFQ_PRESETS,
  LFQ_MAX_BITS,
  LFQ_FULL_ENTROPY_MAX_BITS,
  defaultLfqEntropyGroups,
} from './config';
export { lfqBitWeights } from './bits';
export { ENTROPY_EPS as LFQ_ENTROPY_EPS } from './entropy';
