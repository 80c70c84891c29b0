// loadMaskGIT from a hub id, served by a local hub on 127.0.0.1 (progress, cache, identical weights).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectHubRoundTrip, type LocalHub, startLocalHub } from '@vtok/test-utils';
import { afterAll, beforeAll, it } from 'vitest';
import { createMaskGIT, loadMaskGIT, type MaskGITGenerator, saveMaskGIT } from '../src';

let hub: LocalHub;
const cacheDir = mkdtempSync(join(tmpdir(), 'vtok-maskgit-hub-'));
beforeAll(async () => {
  hub = await startLocalHub();
});
afterAll(async () => {
  await hub.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

it('loadMaskGIT loads hf:test/maskgit-tiny from the hub, then from the cache', async () => {
  const reference = createMaskGIT({ codebookSize: 16, numClasses: 4, tokenShape: [6], hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32 }, { seed: 3 });
  const files = await saveMaskGIT(reference);
  await expectHubRoundTrip(hub, 'maskgit-tiny', files, { load: loadMaskGIT, stateDict: (m) => m.stateDict(), dispose: (m: MaskGITGenerator) => m.dispose() }, reference, cacheDir);
  reference.dispose();
});
