// loadMaskGIT from a hub id, served by a local hub on 127.0.0.1 (progress, cache, identical weights).
import { expectHubRoundTrip, useLocalHub } from '@vtok/test-utils';
import { it } from 'vitest';
import { createMaskGIT, loadMaskGIT, type MaskGITGenerator, saveMaskGIT } from '../src';

const local = useLocalHub();

it('loadMaskGIT loads hf:test/maskgit-tiny from the hub, then from the cache', async () => {
  const reference = createMaskGIT({ codebookSize: 16, numClasses: 4, tokenShape: [6], hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32 }, { seed: 3 });
  const files = await saveMaskGIT(reference);
  await expectHubRoundTrip(local, 'maskgit-tiny', files, { load: loadMaskGIT, stateDict: (m) => m.stateDict(), dispose: (m: MaskGITGenerator) => m.dispose() }, reference);
  reference.dispose();
});
