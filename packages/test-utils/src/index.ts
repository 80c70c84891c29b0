/**
 * vtok's test helpers, shared by every package's tests (private, not published): the golden fixtures and
 * their reader, closeness and leak checks, GPU-kernel forcing, seeded test data.
 */
export { parseSafetensors, type GoldenTensor, type ParsedSafetensors } from './safetensors';
export {
  GOLDEN_DIR,
  GOLDEN_TOLERANCE,
  goldenCase,
  goldenCaseNames,
  goldenPath,
  goldenSafetensorsFiles,
  goldenTensor,
  readGoldenFile,
  type GoldenCase,
  type Tolerance,
} from './golden';
export { channelsFirst, channelsLast, tensorOf, type ShapedArray } from './tensors';
export { expectAllClose, expectClose, expectExact, type Values } from './close';
export { disposeAll, expectError, expectNoLeak, expectOnlyResult, expectTensorDelta, tensorsIn } from './memory';
export { forceGpuKernels } from './gpu';
export { TITOK_L32_HUB_CONFIG } from './hub-configs';
export { centralDifferences, normals, prng, type TestRandom } from './random';
export { expectHubRoundTrip, startLocalHub, useLocalHub, type HubFault, type HubFile, type HubLoadable, type LocalHub } from './hub-server';
export { bundlePage, CHROMIUM_PATH, CHROMIUM_WEBGPU_ARGS, launchChromium, pageHtml, REPO_ROOT } from './browser';
export { expectGradientsReach, type NamedParameters } from './gradients';
