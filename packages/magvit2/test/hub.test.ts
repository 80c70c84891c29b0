// loadMagvit2 from a hub id, served by a local hub on 127.0.0.1 (progress, cache, identical weights).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectHubRoundTrip, goldenCase, type LocalHub, startLocalHub } from '@vtok/test-utils';
import { afterAll, beforeAll, it } from 'vitest';
import { loadMagvit2, type Magvit2Tokenizer } from '../src';
import { caseFiles } from './helpers/golden';

let hub: LocalHub;
const cacheDir = mkdtempSync(join(tmpdir(), 'vtok-magvit2-hub-'));
beforeAll(async () => {
  hub = await startLocalHub();
});
afterAll(async () => {
  await hub.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

it('loadMagvit2 loads hf:test/omagvit2-tiny from the hub, then from the cache', async () => {
  const files = caseFiles(goldenCase('omagvit2_image_tiny'));
  const reference = await loadMagvit2(files);
  await expectHubRoundTrip(
    hub,
    'omagvit2-tiny',
    files,
    { load: loadMagvit2, stateDict: (t: Magvit2Tokenizer) => t.model.stateDict(), dispose: (t) => t.dispose() },
    reference,
    cacheDir,
  );
  reference.dispose();
});
