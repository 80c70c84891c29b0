export {
  type ValueCheck,
  valueChecksRunSync,
  assertQuantizerInput,
  assertFiniteAsync,
  assertCodeIndices,
  assertCodeIndicesAsync,
} from './validate';
export { type UsageStatistics, usageStatisticsFromCounts, codeHistogram, CodebookUsage } from './usage';
export { l2Normalize, L2_NORMALIZE_EPS, squaredDistances, argMinFirst, segmentSum } from './math';
