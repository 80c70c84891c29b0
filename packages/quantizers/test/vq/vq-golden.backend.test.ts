// Golden parity with the official TiTok VectorQuantizer (bytedance/1d-tokenizer @ 942a96f): the quantizer
// tensors of the titok_tiny (l2-normalised) and titok_nolegacy_tiny (plain) cases, on every backend: its
// codebook `quantize.embedding.weight`, its input `enc.out`, outputs `quant.tokens` / `dec.in` and the three
// losses of `model.quantize(enc.out)`, and `decode_tokens.*` (ids -> codes, `get_codebook_entry`).
// Tolerance from each case.json: floats |ours − ref| <= 1e-4 + 1e-4·|ref| elementwise, indices exact.
import * as tf from '@tensorflow/tfjs-core';
import { channelsLast, disposeAll, expectAllClose, expectExact, expectNoLeak, goldenCase, tensorOf } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { VectorQuantizer } from '../../src';

describe.each(['titok_tiny', 'titok_nolegacy_tiny'])('VectorQuantizer matches the official code: %s', (name) => {
  const golden = goldenCase(name);
  const { io, tolerance: tol } = golden;
  const config = {
    dim: golden.config.token_size,
    codebookSize: golden.config.codebook_size,
    useL2Norm: golden.config.use_l2_norm,
    commitmentCost: golden.config.commitment_cost,
  };

  function makeQuantizer(): VectorQuantizer {
    const vq = new VectorQuantizer({ ...config, seed: 1 });
    const weight = tensorOf(golden.weights['quantize.embedding.weight']);
    vq.loadStateDict({ 'embedding.weight': weight }, { source: `${name}/weights.safetensors` });
    weight.dispose();
    return vq;
  }

  it.each([false, true])('quantize (training: %s): indices exact, codes and losses within tolerance', async (training) => {
    const vq = makeQuantizer();
    // enc.out is [B, C, 1, N] (NCHW, channel = code dimension): channels-last [B, 1, N, C].
    const zt = tensorOf(channelsLast(io['enc.out']));
    const r = vq.quantize(zt, { training });
    // Official min_encoding_indices are [B, H, W] = [B, 1, N]: the input shape without the code axis.
    await expectExact(r.indices, io['quant.tokens'], `${name} quant.tokens`);
    await expectAllClose(r.quantized, channelsLast(io['dec.in']), tol, `${name} quantized vs dec.in`);
    await expectAllClose(r.losses.commitment, io['quant.commitment_loss'], tol, `${name} commitment_loss`);
    await expectAllClose(r.losses.codebook, io['quant.codebook_loss'], tol, `${name} codebook_loss`);
    await expectAllClose(r.losses.total, io['quant.quantizer_loss'], tol, `${name} quantizer_loss`);
    disposeAll(r);
    await expectNoLeak(() => vq.quantize(zt, { training }), `${name} quantize`);
    zt.dispose();
    vq.dispose();
  });

  it('lookup of the tokens equals get_codebook_entry (decode_tokens.z_quantized)', async () => {
    const vq = makeQuantizer();
    const ids = io['decode_tokens.input'];
    const idt = tensorOf(ids);
    const codes = vq.lookup(idt);
    const [b, n] = ids.shape;
    expect(codes.shape).toEqual([b, n, config.dim]);
    // The golden z_quantized is [B, C, 1, N]: as channels-last [B, 1, N, C], the same values as [B, N, C].
    await expectAllClose(codes, channelsLast(io['decode_tokens.z_quantized']).data, tol, `${name} lookup`);
    codes.dispose();
    await expectNoLeak(() => vq.lookup(idt), `${name} lookup`);
    idt.dispose();
    vq.dispose();
  });
});
