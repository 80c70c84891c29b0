// loadMagvit2 from a hub id, served by a local hub on 127.0.0.1 (progress, cache, identical weights).
import { expectHubRoundTrip, goldenCase, useLocalHub } from '@vtok/test-utils';
import { it } from 'vitest';
import { loadMagvit2, type Magvit2Tokenizer } from '../src';
import { caseFiles } from './helpers/golden';

const local = useLocalHub();

it('loadMagvit2 loads hf:test/omagvit2-tiny from the hub, then from the cache', async () => {
  const files = caseFiles(goldenCase('omagvit2_image_tiny'));
  const reference = await loadMagvit2(files);
  await expectHubRoundTrip(
    local,
    'omagvit2-tiny',
    files,
    { load: loadMagvit2, stateDict: (t: Magvit2Tokenizer) => t.model.stateDict(), dispose: (t) => t.dispose() },
    reference,
  );
  reference.dispose();
});
