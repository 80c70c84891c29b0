// Golden parity with the official TiTok VectorQuantizer (bytedance/1d-tokenizer @ 942a96f): the quantizer
// tensors of the titok_tiny (l2-normalised) and titok_nolegacy_tiny (plain) cases, on every backend.
// Tolerance from each case.json: floats |ours − ref| <= 1e-4 + 1e-4·|ref| elementwise, indices exact.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type RawTensor } from '@vtok/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { VectorQuantizer } from '../../src';
import { disposeResult, expectNoLeak, expectWithinTolerance, forceGpuKernels } from './helpers';

interface CaseJson {
  config: { codebook_size: number; token_size: number; use_l2_norm: boolean; commitment_cost: number };
  tolerance: { float: { atol: number; rtol: number } };
}

function loadCase(name: string) {
  const dir = join(import.meta.dirname, '..', 'fixtures', name);
  const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseJson;
  const { tensors } = readSafetensors(readFileSync(join(dir, 'vq.safetensors')), { copy: true });
  return { meta, tensors };
}

/** [B, C, H, W] (official NCHW, channel = code dimension) → channels-last [B, H, W, C], plain values. */
function toChannelsLast(t: RawTensor): { data: Float32Array; shape: number[] } {
  const [b, c, h, w] = t.shape;
  const data = new Float32Array(t.data.length);
  for (let n = 0; n < b; n++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) data[((n * h + y) * w + x) * c + k] = t.data[((n * c + k) * h + y) * w + x] as number;
  return { data, shape: [b, h, w, c] };
}

beforeAll(forceGpuKernels);

describe.each(['titok_tiny', 'titok_nolegacy_tiny'])('VectorQuantizer matches the official code: %s', (name) => {
  const { meta, tensors } = loadCase(name);
  const { atol, rtol } = meta.tolerance.float;
  const config = {
    dim: meta.config.token_size,
    codebookSize: meta.config.codebook_size,
    useL2Norm: meta.config.use_l2_norm,
    commitmentCost: meta.config.commitment_cost,
  };

  function makeQuantizer(): VectorQuantizer {
    const vq = new VectorQuantizer({ ...config, seed: 1 });
    const weight = tf.tensor(tensors['embedding.weight'].data, tensors['embedding.weight'].shape, 'float32');
    vq.loadStateDict({ 'embedding.weight': weight }, { source: `${name}/vq.safetensors` });
    weight.dispose();
    return vq;
  }

  it.each([false, true])('quantize (training: %s): indices exact, codes and losses within tolerance', async (training) => {
    const vq = makeQuantizer();
    const z = toChannelsLast(tensors['enc.out']);
    const zt = tf.tensor(z.data, z.shape, 'float32');
    const r = vq.quantize(zt, { training });
    // Official min_encoding_indices are [B, H, W] = [B, 1, N]: the input shape without the code axis.
    expect(r.indices.dtype).toBe('int32');
    expect(r.indices.shape).toEqual(tensors['quant.tokens'].shape);
    expect(Array.from(await r.indices.data())).toEqual(Array.from(tensors['quant.tokens'].data));
    expect(r.quantized.shape).toEqual(z.shape);
    await expectWithinTolerance(r.quantized, toChannelsLast(tensors['dec.in']).data, atol, rtol, `${name} quantized vs dec.in`);
    await expectWithinTolerance(r.losses.commitment, tensors['quant.commitment_loss'].data, atol, rtol, `${name} commitment_loss`);
    await expectWithinTolerance(r.losses.codebook, tensors['quant.codebook_loss'].data, atol, rtol, `${name} codebook_loss`);
    await expectWithinTolerance(r.losses.total, tensors['quant.quantizer_loss'].data, atol, rtol, `${name} quantizer_loss`);
    disposeResult(r);
    await expectNoLeak(() => vq.quantize(zt, { training }), `${name} quantize`);
    zt.dispose();
    vq.dispose();
  });

  it('lookup of the tokens equals get_codebook_entry (decode_tokens.z_quantized)', async () => {
    const vq = makeQuantizer();
    const ids = tensors['decode_tokens.input'];
    const idt = tf.tensor(ids.data, ids.shape, 'int32');
    const codes = vq.lookup(idt);
    const [b, n] = ids.shape;
    expect(codes.shape).toEqual([b, n, config.dim]);
    // The golden z_quantized is [B, C, 1, N]: as channels-last [B, 1, N, C], the same values as [B, N, C].
    await expectWithinTolerance(codes, toChannelsLast(tensors['decode_tokens.z_quantized']).data, atol, rtol, `${name} lookup`);
    codes.dispose();
    await expectNoLeak(() => vq.lookup(idt), `${name} lookup`);
    idt.dispose();
    vq.dispose();
  });
});
