// loadTiTok from a hub id, served by a local hub on 127.0.0.1 (progress, cache, identical weights).
import { expectHubRoundTrip, goldenCase, useLocalHub } from '@vtok/test-utils';
import { expect, it } from 'vitest';
import { loadMaskGitVqgan, loadTiTok, type TiTok } from '../src';
import { officialFiles } from './helpers';

const local = useLocalHub();

const stateDictOf = (m: { stateDict(): Record<string, { data(): Promise<ArrayLike<number>> }> }) => m.stateDict();

it('loadTiTok loads hf:test/titok-tiny from the hub, then from the cache', async () => {
  const files = officialFiles(goldenCase('titok_tiny'));
  const reference = await loadTiTok(files);
  await expectHubRoundTrip(local, 'titok-tiny', files, { load: loadTiTok, stateDict: stateDictOf, dispose: (m: TiTok) => m.dispose() }, reference);
  reference.dispose();
});

it('loadMaskGitVqgan loads a weights file from the hub', async () => {
  const c = goldenCase('vqgan_decoder_tiny');
  const d = c.config.decoder;
  const config = { hiddenChannels: d.hidden_channels, channelMult: d.channel_mult, numResBlocks: d.num_res_blocks, zChannels: d.z_channels, numEmbeddings: c.config.num_embeddings, resolution: d.resolution };
  local.hub.setRepo('test/vqgan', { 'maskgit-vqgan.safetensors': c.weightsBytes });
  const model = await loadMaskGitVqgan('hf:test/vqgan', { hubEndpoint: local.hub.endpoint, cacheDir: local.cacheDir, weights: 'maskgit-vqgan.safetensors', config, parts: ['decoder'] });
  const reference = await loadMaskGitVqgan(c.weightsBytes, { config, parts: ['decoder'] });
  for (const [k, v] of Object.entries(reference.stateDict())) expect(Array.from(await model.stateDict()[k].data()), k).toEqual(Array.from(await v.data()));
  model.dispose();
  reference.dispose();
});
