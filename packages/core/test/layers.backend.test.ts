// Layers (Modules) against the float64 reference: forward, gradients wrt every parameter and input,
// state-dict names, and no leaked tensors.
import * as tf from '@tensorflow/tfjs-core';

import { describe, expect, it } from 'vitest';
import {
  CausalConv3d,
  Conv2d,
  Embedding,
  GELU,
  GroupNorm,
  LayerNorm,
  Linear,
  MLP,
  MultiheadAttention,
  ResidualAttentionBlock,
  SiLU,
  dhwioToTorchConv3dWeight,
  hwioToTorchConv2dWeight,
  torchConv2dWeightToHWIO,
  torchConv3dWeightToDHWIO,
} from '../src/layers';
import { SeededRandom } from '../src/random';
import { checkModule, expectCreateDisposeClean } from './helpers/check-module';
import { expectClose } from '@vtok/test-utils';
import { toND, toTensor } from './helpers/tensors';
import { type NDArray, RefRandom, offset, ref, refLayers, zeros } from './reference';

const rng = (seed: number) => new SeededRandom(seed);


describe('Linear', () => {
  it('y = x·Wᵀ + b over the last axis of a rank-3 input', async () => {
    const rr = new RefRandom(100);
    await checkModule(rr, {
      label: 'Linear',
      module: new Linear(5, 4, { rng: rng(1) }),
      forward: (m, x) => m.forward(x),
      ref: (p, x) => ref.linear(x, p.weight, p.bias),
      inputs: [rr.array([2, 3, 5])],
    });
  });

  it('without bias', async () => {
    const rr = new RefRandom(101);
    const m = new Linear(3, 2, { bias: false, rng: rng(2) });
    expect(Object.keys(m.stateDict())).toEqual(['weight']);
    await checkModule(rr, { label: 'Linear no bias', module: m, forward: (mm, x) => mm.forward(x), ref: (p, x) => ref.linear(x, p.weight), inputs: [rr.array([4, 3])] });
  });

  it('creates and disposes cleanly', () => {
    expectCreateDisposeClean(() => new Linear(4, 3, { rng: rng(3) }), 'Linear');
  });
});

describe('Embedding', () => {
  it('looks up rows by int32 id; the gradient scatters into the table', async () => {
    const rr = new RefRandom(102);
    const idsValues = [0, 3, 6, 3, 1, 0]; // repeated ids: their gradients add up
    const gatherRef = (table: NDArray, ids: NDArray): NDArray => {
      const dim = table.shape[1];
      const out = zeros([...ids.shape, dim]);
      for (let i = 0; i < ids.data.length; i++) for (let d = 0; d < dim; d++) out.data[i * dim + d] = table.data[ids.data[i] * dim + d];
      return out;
    };
    await checkModule(rr, {
      label: 'Embedding',
      module: new Embedding(7, 4, { rng: rng(4) }),
      forward: (m, ids) => tf.tidy(() => m.forward(tf.cast(ids, 'int32'))),
      ref: (p, ids) => gatherRef(p.weight, ids),
      inputs: [{ shape: [2, 3], data: Float64Array.from(idsValues) }],
      inputGrads: false,
    });
  });

  it('creates and disposes cleanly', () => {
    expectCreateDisposeClean(() => new Embedding(5, 3, { rng: rng(5) }), 'Embedding');
  });
});

describe('normalisation layers', () => {
  it('LayerNorm with weight and bias', async () => {
    const rr = new RefRandom(103);
    await checkModule(rr, {
      label: 'LayerNorm',
      module: new LayerNorm(6),
      forward: (m, x) => m.forward(x),
      ref: (p, x) => ref.layerNorm(x, p.weight, p.bias, 1e-5),
      inputs: [rr.array([2, 3, 6], 2)],
    });
  });

  it('GroupNorm on NHWC and NDHWC', async () => {
    const rr = new RefRandom(104);
    for (const shape of [[2, 3, 3, 6], [1, 2, 2, 3, 6]]) {
      await checkModule(rr, {
        label: `GroupNorm ${shape}`,
        module: new GroupNorm(3, 6, { eps: 1e-6 }),
        forward: (m, x) => m.forward(x),
        ref: (p, x) => ref.groupNorm(x, 3, p.weight, p.bias, 1e-6),
        inputs: [rr.array(shape, 2)],
      });
    }
  });

  it("default eps is PyTorch's 1e-5 (visible on low-variance input)", async () => {
    const rr = new RefRandom(116);
    const x = rr.array([1, 2, 2, 4], 3e-3); // variance ~1e-5, the size of eps
    const t = toTensor(x);
    const ln = new LayerNorm(4, { elementwiseAffine: false });
    const gn = new GroupNorm(2, 4, { affine: false });
    const [a, b] = [ln.forward(t), gn.forward(t)];
    await expectClose(a, ref.layerNorm(x, undefined, undefined, 1e-5), 2e-5, 'LayerNorm eps');
    await expectClose(b, ref.groupNorm(x, 2, undefined, undefined, 1e-5), 2e-5, 'GroupNorm eps');
    tf.dispose([a, b, t]);
    ln.dispose();
    gn.dispose();
  });

  it('non-affine variants hold no parameters', () => {
    expect(Object.keys(new LayerNorm(4, { elementwiseAffine: false }).stateDict())).toEqual([]);
    expect(Object.keys(new GroupNorm(2, 4, { affine: false }).stateDict())).toEqual([]);
    expectCreateDisposeClean(() => new LayerNorm(4), 'LayerNorm');
    expectCreateDisposeClean(() => new GroupNorm(2, 4), 'GroupNorm');
  });
});

describe('activation modules', () => {
  it('GELU and SiLU', async () => {
    const rr = new RefRandom(105);
    await checkModule(rr, { label: 'GELU', module: new GELU(), forward: (m, x) => m.forward(x), ref: (_, x) => ref.gelu(x), inputs: [rr.array([3, 7], 2)] });
    await checkModule(rr, { label: 'SiLU', module: new SiLU(), forward: (m, x) => m.forward(x), ref: (_, x) => ref.silu(x), inputs: [rr.array([3, 7], 2)] });
  });
});

describe('convolution layers', () => {
  it('Conv2d 3×3 stride 2 padding 1 with bias', async () => {
    const rr = new RefRandom(106);
    const m = new Conv2d(3, 4, 3, { stride: 2, padding: 1, rng: rng(6) });
    expect(m.weight.shape).toEqual([3, 3, 3, 4]);
    await checkModule(rr, {
      label: 'Conv2d',
      module: m,
      forward: (mm, x) => mm.forward(x),
      ref: (p, x) => ref.conv2d(x, p.weight, { stride: [2, 2], pad: [[1, 1], [1, 1]], bias: p.bias }),
      inputs: [rr.array([2, 5, 5, 3])],
    });
    expectCreateDisposeClean(() => new Conv2d(2, 3, [1, 2], { bias: false }), 'Conv2d');
  });

  it('CausalConv3d 3×3×3 padding 1 with bias', async () => {
    const rr = new RefRandom(107);
    const m = new CausalConv3d(2, 3, [3, 3, 3], { padding: 1, rng: rng(7) });
    expect(m.weight.shape).toEqual([3, 3, 3, 2, 3]);
    await checkModule(rr, {
      label: 'CausalConv3d',
      module: m,
      forward: (mm, x) => mm.forward(x),
      ref: (p, x) => ref.causalConv3d(x, p.weight, { pad: [[1, 1], [1, 1]], bias: p.bias }),
      inputs: [rr.array([1, 3, 4, 3, 2])],
    });
    expectCreateDisposeClean(() => new CausalConv3d(2, 3, 3), 'CausalConv3d');
  });

  it('kernel layout helpers map PyTorch [O,I,kh,kw] to HWIO and back (and the 3D pair)', async () => {
    const rr = new RefRandom(108);
    const w2 = rr.array([4, 3, 2, 5]);
    const w3 = rr.array([4, 3, 2, 2, 3]);
    const t2 = toTensor(w2);
    const t3 = toTensor(w3);
    const before = tf.memory().numTensors;
    const hwio = torchConv2dWeightToHWIO(t2);
    const dhwio = torchConv3dWeightToDHWIO(t3);
    expect(hwio.shape).toEqual([2, 5, 3, 4]);
    expect(dhwio.shape).toEqual([2, 2, 3, 3, 4]);
    const h = await toND(hwio);
    const d = await toND(dhwio);
    for (const [o, i, y, x] of [[0, 0, 0, 0], [3, 2, 1, 4], [1, 2, 0, 3]]) {
      expect(h.data[offset(h.shape, [y, x, i, o])]).toBe(w2.data[offset(w2.shape, [o, i, y, x])]);
    }
    for (const [o, i, t, y, x] of [[0, 0, 0, 0, 0], [3, 2, 1, 1, 2], [2, 1, 1, 0, 1]]) {
      expect(d.data[offset(d.shape, [t, y, x, i, o])]).toBe(w3.data[offset(w3.shape, [o, i, t, y, x])]);
    }
    const back2 = hwioToTorchConv2dWeight(hwio);
    const back3 = dhwioToTorchConv3dWeight(dhwio);
    expect(Array.from(await back2.data())).toEqual(Array.from(Float32Array.from(w2.data)));
    expect(Array.from(await back3.data())).toEqual(Array.from(Float32Array.from(w3.data)));
    tf.dispose([hwio, dhwio, back2, back3]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t2, t3]);
  });
});

describe('MultiheadAttention', () => {
  it('has PyTorch nn.MultiheadAttention parameter names and shapes', () => {
    const m = new MultiheadAttention(8, 2, { rng: rng(8) });
    const shapes = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({ in_proj_weight: [24, 8], in_proj_bias: [24], 'out_proj.weight': [8, 8], 'out_proj.bias': [8] });
    m.dispose();
  });

  it('self-attention (packed projection)', async () => {
    const rr = new RefRandom(109);
    await checkModule(rr, {
      label: 'MHA self',
      module: new MultiheadAttention(8, 2, { rng: rng(9) }),
      forward: (m, x) => m.forward(x),
      ref: (p, x) => refLayers.multiheadAttention(x, x, x, p, 2),
      inputs: [rr.array([2, 3, 8])],
    });
  });

  it('cross-attention with a bool mask', async () => {
    const rr = new RefRandom(110);
    const keep = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1];
    const mask = tf.tensor(keep.map(Boolean), [3, 4], 'bool');
    await checkModule(rr, {
      label: 'MHA cross',
      module: new MultiheadAttention(6, 3, { rng: rng(10) }),
      forward: (m, q, k, v) => m.forward(q, k, v, { mask }),
      ref: (p, q, k, v) => refLayers.multiheadAttention(q, k, v, p, 3, { mask: { shape: [3, 4], data: Float64Array.from(keep), kind: 'bool' } }),
      inputs: [rr.array([2, 3, 6]), rr.array([2, 4, 6]), rr.array([2, 4, 6])],
    });
    mask.dispose();
  });

  it('without biases', async () => {
    const rr = new RefRandom(111);
    const m = new MultiheadAttention(4, 1, { bias: false, rng: rng(11) });
    expect(Object.keys(m.stateDict())).toEqual(['in_proj_weight', 'out_proj.weight']);
    await checkModule(rr, { label: 'MHA no bias', module: m, forward: (mm, x) => mm.forward(x), ref: (p, x) => refLayers.multiheadAttention(x, x, x, p, 1), inputs: [rr.array([1, 3, 4])] });
  });

  it('creates and disposes cleanly', () => {
    expectCreateDisposeClean(() => new MultiheadAttention(8, 2), 'MultiheadAttention');
    expectCreateDisposeClean(() => new MultiheadAttention(8, 2, { layout: 'packed' }), 'MultiheadAttention packed');
    expectCreateDisposeClean(() => new MultiheadAttention(8, 2, { layout: 'separate' }), 'MultiheadAttention separate');
  });

  it("'packed' layout (timm qkv Linear, no qkv bias): names, self- and cross-attention", async () => {
    const m = new MultiheadAttention(6, 3, { layout: 'packed', qkvBias: false, rng: rng(17) });
    expect(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape]))).toEqual({
      'qkv.weight': [18, 6],
      'proj.weight': [6, 6],
      'proj.bias': [6],
    });
    const rr = new RefRandom(117);
    const weights = (p: Record<string, NDArray>) => ({ ...refLayers.thirds(p['qkv.weight']), out: p['proj.weight'], outb: p['proj.bias'] });
    await checkModule(rr, {
      label: 'MHA packed self',
      module: m,
      forward: (mm, x) => mm.forward(x),
      ref: (p, x) => refLayers.attentionFromWeights(x, x, x, weights(p), 3),
      inputs: [rr.array([2, 4, 6])],
    });
    await checkModule(rr, {
      label: 'MHA packed cross',
      module: new MultiheadAttention(6, 3, { layout: 'packed', rng: rng(18) }),
      forward: (mm, q, kv) => mm.forward(q, kv),
      ref: (p, q, kv) => refLayers.attentionFromWeights(q, kv, kv, { ...refLayers.thirds(p['qkv.weight'], p['qkv.bias']), out: p['proj.weight'], outb: p['proj.bias'] }, 3),
      inputs: [rr.array([2, 3, 6]), rr.array([2, 5, 6])],
    });
  });

  it("'separate' layout with dotted names (HF BERT's self.query ... output.dense)", async () => {
    const names = { query: 'self.query', key: 'self.key', value: 'self.value', out: 'output.dense' };
    const m = new MultiheadAttention(4, 2, { layout: 'separate', names, rng: rng(19) });
    expect(Object.keys(m.stateDict())).toEqual([
      'self.query.weight',
      'self.query.bias',
      'self.key.weight',
      'self.key.bias',
      'self.value.weight',
      'self.value.bias',
      'output.dense.weight',
      'output.dense.bias',
    ]);
    const rr = new RefRandom(119);
    await checkModule(rr, {
      label: 'MHA separate',
      module: m,
      zeroGradParams: ['self.key.bias'],
      forward: (mm, x) => mm.forward(x),
      ref: (p, x) =>
        refLayers.attentionFromWeights(x, x, x, {
          q: p['self.query.weight'],
          qb: p['self.query.bias'],
          k: p['self.key.weight'],
          kb: p['self.key.bias'],
          v: p['self.value.weight'],
          vb: p['self.value.bias'],
          out: p['output.dense.weight'],
          outb: p['output.dense.bias'],
        }, 2),
      inputs: [rr.array([1, 3, 4])],
    });
  });

  it('attention dropout only in training calls', async () => {
    const m = new MultiheadAttention(8, 2, { dropout: 0.5, rng: rng(20) });
    const x = tf.randomNormal([1, 6, 8], 0, 1, 'float32', 3);
    const twin = new MultiheadAttention(8, 2, { rng: rng(20) });
    const plain = twin.forward(x);
    twin.dispose();
    const inference = m.forward(x);
    const training = m.forward(x, x, x, { training: true });
    expect(Array.from(await inference.data())).toEqual(Array.from(await plain.data()));
    expect(Array.from(await training.data())).not.toEqual(Array.from(await plain.data()));
    tf.dispose([x, plain, inference, training]);
    m.dispose();
  });
});

describe('MLP', () => {
  it("default names c_fc/c_proj and exact GELU", async () => {
    const rr = new RefRandom(112);
    const m = new MLP(6, 12, { rng: rng(12) });
    expect(Object.keys(m.stateDict())).toEqual(['c_fc.weight', 'c_fc.bias', 'c_proj.weight', 'c_proj.bias']);
    await checkModule(rr, { label: 'MLP', module: m, forward: (mm, x) => mm.forward(x), ref: (p, x) => refLayers.mlp(x, p), inputs: [rr.array([2, 3, 6])] });
  });

  it('custom names and SiLU', async () => {
    const rr = new RefRandom(113);
    const m = new MLP(4, 8, { names: ['fc1', 'fc2'], activation: 'silu', rng: rng(13) });
    expect(Object.keys(m.stateDict())).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    await checkModule(rr, {
      label: 'MLP silu',
      module: m,
      forward: (mm, x) => mm.forward(x),
      ref: (p, x) => refLayers.mlp(x, p, '', ['fc1', 'fc2'], ref.silu),
      inputs: [rr.array([3, 4])],
    });
    expectCreateDisposeClean(() => new MLP(4, 8), 'MLP');
  });
});

describe('ResidualAttentionBlock (TiTok)', () => {
  it('state-dict names are exactly the PyTorch ones', () => {
    const m = new ResidualAttentionBlock(8, 2, { rng: rng(14) });
    const shapes = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'ln_1.weight': [8],
      'ln_1.bias': [8],
      'attn.in_proj_weight': [24, 8],
      'attn.in_proj_bias': [24],
      'attn.out_proj.weight': [8, 8],
      'attn.out_proj.bias': [8],
      'ln_2.weight': [8],
      'ln_2.bias': [8],
      'mlp.c_fc.weight': [32, 8],
      'mlp.c_fc.bias': [32],
      'mlp.c_proj.weight': [8, 32],
      'mlp.c_proj.bias': [8],
    });
    m.dispose();
    // mlp_ratio 0: TiTok's block then has no ln_2 and no mlp.
    const bare = new ResidualAttentionBlock(8, 2, { mlpRatio: 0 });
    expect(Object.keys(bare.stateDict())).toEqual(['ln_1.weight', 'ln_1.bias', 'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'attn.out_proj.bias']);
    bare.dispose();
  });

  it('x + attn(ln_1(x)); + mlp(ln_2(x)) matches the reference, gradients wrt every parameter', async () => {
    const rr = new RefRandom(115);
    await checkModule(rr, {
      label: 'ResidualAttentionBlock',
      module: new ResidualAttentionBlock(8, 2, { rng: rng(15) }),
      forward: (m, x) => m.forward(x),
      ref: (p, x) => refLayers.residualAttentionBlock(x, p, 2, 1e-5),
      inputs: [rr.array([2, 3, 8])],
    });
  });

  it("'timm' naming (U-ViT): packed qkv without bias, pre-norm", async () => {
    const m = new ResidualAttentionBlock(8, 2, { naming: 'timm', qkvBias: false, mlpHidden: 16, rng: rng(21) });
    expect(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.shape]))).toEqual({
      'norm1.weight': [8],
      'norm1.bias': [8],
      'attn.qkv.weight': [24, 8],
      'attn.proj.weight': [8, 8],
      'attn.proj.bias': [8],
      'norm2.weight': [8],
      'norm2.bias': [8],
      'mlp.fc1.weight': [16, 8],
      'mlp.fc1.bias': [16],
      'mlp.fc2.weight': [8, 16],
      'mlp.fc2.bias': [8],
    });
    const rr = new RefRandom(121);
    await checkModule(rr, { label: 'timm block', module: m, forward: (mm, x) => mm.forward(x), ref: (p, x) => refLayers.timmBlock(x, p, 2, 1e-5), inputs: [rr.array([2, 3, 8])] });
  });

  it("'hf-bert' naming, post-norm with eps 1e-12: HF BertLayer's names and values", async () => {
    const m = new ResidualAttentionBlock(8, 2, { naming: 'hf-bert', norm: 'post', eps: 1e-12, mlpHidden: 12, rng: rng(22) });
    expect(Object.keys(m.stateDict())).toEqual([
      'attention.self.query.weight',
      'attention.self.query.bias',
      'attention.self.key.weight',
      'attention.self.key.bias',
      'attention.self.value.weight',
      'attention.self.value.bias',
      'attention.output.dense.weight',
      'attention.output.dense.bias',
      'attention.output.LayerNorm.weight',
      'attention.output.LayerNorm.bias',
      'intermediate.dense.weight',
      'intermediate.dense.bias',
      'output.dense.weight',
      'output.dense.bias',
      'output.LayerNorm.weight',
      'output.LayerNorm.bias',
    ]);
    const rr = new RefRandom(122);
    await checkModule(rr, { label: 'bert layer', module: m, zeroGradParams: ['attention.self.key.bias'], forward: (mm, x) => mm.forward(x), ref: (p, x) => refLayers.bertLayer(x, p, 2, 1e-12), inputs: [rr.array([2, 3, 8])] });
  });

  it('hidden and attention dropout act only in training calls', async () => {
    const m = new ResidualAttentionBlock(8, 2, { naming: 'hf-bert', norm: 'post', dropout: 0.3, attentionDropout: 0.3, rng: rng(23) });
    const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 4);
    const a = m.forward(x);
    const b = m.forward(x);
    const t = m.forward(x, { training: true });
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(Array.from(await t.data())).not.toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b, t]);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => m.forward(tf.ones([1, 2, 8]), { training: true }));
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
    m.dispose();
  });

  it('creates and disposes cleanly; the same seed gives the same weights', async () => {
    expectCreateDisposeClean(() => new ResidualAttentionBlock(8, 2), 'ResidualAttentionBlock');
    expectCreateDisposeClean(() => new ResidualAttentionBlock(8, 2, { naming: 'hf-bert', norm: 'post' }), 'ResidualAttentionBlock hf-bert');
    const a = new ResidualAttentionBlock(8, 2, { rng: rng(16) });
    const b = new ResidualAttentionBlock(8, 2, { rng: rng(16) });
    for (const [name, t] of Object.entries(a.stateDict())) {
      expect(Array.from(await t.data()), name).toEqual(Array.from(await b.stateDict()[name].data()));
    }
    a.dispose();
    b.dispose();
  });
});
