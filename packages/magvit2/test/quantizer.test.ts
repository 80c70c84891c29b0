// MAGVIT-v2's LFQ comes from @vtok/core's quantizer registry (so whatever is registered as 'lfq' is what the
// tokenizer runs), configured as Open-MAGVIT2's.
import { type Quantizer, quantizerRegistry, registerQuantizer } from '@vtok/core';
import { LookupFreeQuantizer, type LfqConfig } from '@vtok/quantizers';
import { afterEach, describe, expect, it } from 'vitest';
import { createMagvit2, parseMagvit2Config } from '../src';
import { createMagvit2Quantizer, magvit2QuantizerConfig } from '../src/quantizer';

const config = parseMagvit2Config({
  model: {
    class_path: 'src.Open_MAGVIT2.models.lfqgan.VQModel',
    init_args: { ddconfig: { ch: 32, ch_mult: [1], num_res_blocks: 1, z_channels: 6, in_channels: 3, out_ch: 3, resolution: 8 }, embed_dim: 6, n_embed: 64 },
  },
});

afterEach(() => {
  quantizerRegistry.register('lfq', (c) => new LookupFreeQuantizer(c), { replace: true });
});

describe('the MAGVIT-v2 quantizer', () => {
  it("is the registry's 'lfq' with Open-MAGVIT2's settings", () => {
    expect(magvit2QuantizerConfig(config)).toMatchObject({ type: 'lfq', dim: 6, codebookSize: 64, bitOrder: 'lsb', entropyFormula: 'open-magvit2' });
    const q = createMagvit2Quantizer(config);
    expect(q).toBeInstanceOf(LookupFreeQuantizer);
    expect([q.type, q.dim, q.codebookSize]).toEqual(['lfq', 6, 64]);
    q.dispose();
  });

  it("a quantizer registered in place of 'lfq' is what the tokenizer builds", () => {
    const seen: LfqConfig[] = [];
    registerQuantizer(
      'lfq',
      (c) => {
        seen.push(c);
        return new LookupFreeQuantizer(c) as Quantizer;
      },
      { replace: true },
    );
    const tokenizer = createMagvit2(
      { model: { class_path: 'src.Open_MAGVIT2.models.lfqgan.VQModel', init_args: { ddconfig: { ch: 32, ch_mult: [1], num_res_blocks: 1, z_channels: 6, in_channels: 3, out_ch: 3, resolution: 8 }, embed_dim: 6, n_embed: 64 } } },
      { seed: 0 },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ dim: 6, codebookSize: 64, bitOrder: 'lsb' });
    tokenizer.dispose();
  });
});
