// Golden parity with lucidrains/vector-quantize-pytorch `FSQ` (fixture fsq_tiny) on the active backend.
// Tolerance: the fixture's (golden README §Tolerance): |ours - ref| <= 1e-4 + 1e-4·|ref| per element; ids exact.
import * as tf from '@tensorflow/tfjs-core';
import { channelsLast, expectAllClose, expectExact, goldenCase, tensorOf } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { FiniteScalarQuantizer } from '../src/fsq';

const golden = goldenCase('fsq_tiny');
const cfg = golden.json.config;
const tol = golden.tolerance;
const io = golden.io;

const fsq = () => new FiniteScalarQuantizer({ levels: cfg.levels, dim: cfg.dim });

describe('FSQ golden parity (fsq_tiny)', () => {
  it('the fixture uses only what this port implements', () => {
    expect(cfg.has_projections).toBe(false);
    expect(cfg.preserve_symmetry).toBe(false);
    expect(cfg.noise_dropout).toBe(0);
    expect(cfg.bound_eps).toBe(1e-3);
    expect(Object.keys(golden.json.weights.tensors), 'FSQ has no state-dict keys').toEqual([]);
  });

  it('codebook size, levels and basis match the official buffers', () => {
    const q = fsq();
    expect(q.codebookSize).toBe(cfg.codebook_size);
    expect([...q.levels]).toEqual(Array.from(io['buffer._levels'].data));
    expect(q.config.channels.map((c) => c.basis)).toEqual(Array.from(io['buffer._basis'].data));
  });

  it('quantize (incl. zero and ±20 saturated rows): codes and indices', async () => {
    const z = tensorOf(io['input.x']);
    const r = fsq().quantize(z);
    await expectAllClose(r.quantized, io['output.x.quantized'], tol, 'output.x.quantized');
    await expectExact(r.indices, io['output.x.indices'], 'output.x.indices');
    expect(Object.keys(r.losses)).toEqual([]);
    tf.dispose([z, r.quantized, r.indices]);
  });

  it('training mode gives the same values', async () => {
    const z = tensorOf(io['input.x']);
    const r = fsq().quantize(z, { training: true });
    await expectAllClose(r.quantized, io['output.x.quantized'], tol, 'train output.x.quantized');
    await expectExact(r.indices, io['output.x.indices'], 'train output.x.indices');
    tf.dispose([z, r.quantized, r.indices]);
  });

  it('image input, channel-first moved last', async () => {
    const z = tensorOf(channelsLast(io['input.x_img']));
    const r = fsq().quantize(z);
    await expectAllClose(r.quantized, channelsLast(io['output.x_img.quantized']), tol, 'output.x_img.quantized');
    await expectExact(r.indices, io['output.x_img.indices'], 'output.x_img.indices');
    tf.dispose([z, r.quantized, r.indices]);
  });

  it('lookup = indices_to_codes', async () => {
    const ids = tensorOf(io['output.x.indices']);
    const codes = fsq().lookup(ids);
    await expectAllClose(codes, io['output.indices_to_codes'], tol, 'output.indices_to_codes');
    tf.dispose([ids, codes]);
  });

  it('lookup of every id = the implicit codebook buffer', async () => {
    const q = fsq();
    const ids = tf.range(0, q.codebookSize, 1, 'int32');
    const codes = q.lookup(ids);
    await expectAllClose(codes, io['buffer.implicit_codebook'], tol, 'buffer.implicit_codebook');
    tf.dispose([ids, codes]);
  });
});
