// loadTiTok from a hub id, served by a local hub on 127.0.0.1 (progress, cache, identical weights).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectHubRoundTrip, goldenCase, type LocalHub, startLocalHub } from '@vtok/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadMaskGitVqganDecoder, loadTiTok, type TiTok } from '../src';
import { officialFiles } from './helpers';

let hub: LocalHub;
const cacheDir = mkdtempSync(join(tmpdir(), 'vtok-titok-hub-'));
beforeAll(async () => {
  hub = await startLocalHub();
});
afterAll(async () => {
  await hub.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const stateDictOf = (m: { stateDict(): Record<string, { data(): Promise<ArrayLike<number>> }> }) => m.stateDict();

it('loadTiTok loads hf:test/titok-tiny from the hub, then from the cache', async () => {
  const files = officialFiles(goldenCase('titok_tiny'));
  const reference = await loadTiTok(files);
  await expectHubRoundTrip(hub, 'titok-tiny', files, { load: loadTiTok, stateDict: stateDictOf, dispose: (m: TiTok) => m.dispose() }, reference, cacheDir);
  reference.dispose();
});

it('loadMaskGitVqganDecoder loads a weights file from the hub', async () => {
  const c = goldenCase('vqgan_decoder_tiny');
  const d = c.config.decoder;
  const config = { hiddenChannels: d.hidden_channels, channelMult: d.channel_mult, numResBlocks: d.num_res_blocks, zChannels: d.z_channels, numEmbeddings: c.config.num_embeddings };
  hub.setRepo('test/vqgan', { 'maskgit-vqgan.safetensors': c.weightsBytes });
  const model = await loadMaskGitVqganDecoder('hf:test/vqgan', { hubEndpoint: hub.endpoint, cacheDir, weights: 'maskgit-vqgan.safetensors', config });
  const reference = await loadMaskGitVqganDecoder(c.weightsBytes, { config });
  for (const [k, v] of Object.entries(reference.stateDict())) expect(Array.from(await model.stateDict()[k].data()), k).toEqual(Array.from(await v.data()));
  model.dispose();
  reference.dispose();
});
