/**
 * A user's quantizer plugin replaces TiTok's VQ by config: registered with @vtok/core's registry, named in the
 * TiTok config (`quantizer: { type, ... }`), built through `createQuantizer`, its parameters in TiTok's state
 * dict, and it survives saveTiTok → loadTiTok with identical tokens. The plugin here is a small, real product
 * quantizer (each half of a latent quantised by its own built-in VQ), written the way docs/plugins.md says.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Module,
  ModuleList,
  type QuantizeOptions,
  type QuantizeResult,
  type Quantizer,
  quantizerRegistry,
  registerQuantizer,
  SeededRandom,
} from '@vtok/core';
import { VectorQuantizer, assertCodeIndices, assertQuantizerInput } from '@vtok/quantizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTiTok, loadTiTok, parseOfficialConfig, saveTiTok, type TiTok, type TiTokConfig } from '../src';
import { tinyOfficialConfig } from './helpers';

interface ProductVQConfig {
  dim: number;
  /** Sub-vectors per latent; each has its own codebook. */
  parts: number;
  /** Codes per sub-vector K; the vocabulary is K^parts. */
  partCodebookSize: number;
  seed?: number;
}

declare module '@vtok/core' {
  interface QuantizerConfigs {
    'test-product-vq': ProductVQConfig;
  }
}

/** Product quantisation: latent [..., dim] split into `parts` sub-vectors; id = Σ_m i_m·K^m. */
class ProductVQ extends Module implements Quantizer {
  readonly specificationVersion = 'v1' as const;
  readonly type = 'test-product-vq';
  readonly dim: number;
  readonly codebookSize: number;
  readonly partDim: number;
  readonly k: number;
  /** State-dict keys `parts.<m>.embedding.weight`. */
  readonly parts: ModuleList<VectorQuantizer>;

  constructor(config: ProductVQConfig) {
    super();
    if (!Number.isInteger(config.parts) || config.parts < 1 || config.dim % config.parts !== 0) {
      throw new ConfigError(`ProductVQ: parts must divide dim ${config.dim}, got ${config.parts}`);
    }
    this.dim = config.dim;
    this.k = config.partCodebookSize;
    this.partDim = config.dim / config.parts;
    this.codebookSize = this.k ** config.parts;
    const seed = config.seed ?? 0;
    this.parts = this.addModule(
      'parts',
      new ModuleList(Array.from({ length: config.parts }, (_, m) => new VectorQuantizer({ dim: this.partDim, codebookSize: this.k, trackUsage: false, seed: seed + m }))),
    );
  }

  quantize(z: tf.Tensor, options: QuantizeOptions = {}): QuantizeResult {
    assertQuantizerInput(z, this.dim, 'ProductVQ.quantize');
    return tf.tidy(() => {
      const pieces = tf.split(z, this.parts.length, -1);
      const quantized: tf.Tensor[] = [];
      let ids: tf.Tensor | null = null;
      const losses: Record<string, tf.Scalar> = {};
      this.parts.items.forEach((part, m) => {
        const r = part.quantize(pieces[m]!, options);
        quantized.push(r.quantized);
        const weighted = tf.mul(r.indices, tf.scalar(this.k ** m, 'int32'));
        ids = ids ? tf.add(ids, weighted) : weighted;
        for (const [name, value] of Object.entries(r.losses)) losses[name] = losses[name] ? tf.add(losses[name]!, value) : value;
      });
      return { quantized: tf.concat(quantized, -1), indices: ids!, losses };
    });
  }

  lookup(indices: tf.Tensor): tf.Tensor {
    assertCodeIndices(indices, this.codebookSize, 'ProductVQ.lookup');
    return tf.tidy(() => {
      const k = tf.scalar(this.k, 'int32');
      let rest = indices;
      const codes: tf.Tensor[] = [];
      for (const part of this.parts) {
        codes.push(part.lookup(tf.mod(rest, k)));
        rest = tf.floorDiv(rest, k);
      }
      return tf.concat(codes, -1);
    });
  }
}

const PLUGIN = 'test-product-vq';

/** A small single-stage TiTok (pixel head) whose quantizer is the plugin: 16² images, 4 tokens of 8 channels. */
const config: TiTokConfig = {
  ...parseOfficialConfig(tinyOfficialConfig({ codebook_size: 64, token_size: 8, use_l2_norm: false, commitment_cost: 0.25 })),
  // What a user writes: the plugin's registry config; dim defaults to token_size.
  quantizer: { type: PLUGIN, parts: 2, partCodebookSize: 16, seed: 5 },
};

const images = () => tf.tidy(() => tf.clipByValue(tf.add(tf.mul(new SeededRandom(9).normal([3, 16, 16, 3]), 0.25), 0.5), 0, 1));

describe(`a quantizer plugin in place of TiTok's VQ (${process.env.VTOK_TEST_BACKEND ?? 'cpu'})`, () => {
  let model: TiTok;

  beforeAll(() => {
    if (!quantizerRegistry.has(PLUGIN)) registerQuantizer(PLUGIN, (c) => new ProductVQ(c));
    model = createTiTok(config, { seed: 1 });
    // Spread the codebooks so that latents pick different codes.
    const rng = new SeededRandom(2);
    for (const [name, v] of Object.entries(model.stateDict())) {
      if (!name.startsWith('quantize.')) continue;
      const values = rng.normal(v.shape, 0, 1);
      (v as tf.Variable).assign(values);
      values.dispose();
    }
  });

  afterAll(() => {
    model?.dispose();
    quantizerRegistry.unregister(PLUGIN);
  });

  it('is built through the registry from the config and its parameters are in the state dict', () => {
    expect(model.quantizer).toBeInstanceOf(ProductVQ);
    expect(model.tokens).toEqual({ vocabSize: 256, shape: [4] });
    const shapes = Object.fromEntries(Object.entries(model.stateDict()).filter(([k]) => k.startsWith('quantize.')).map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({ 'quantize.parts.0.embedding.weight': [16, 4], 'quantize.parts.1.embedding.weight': [16, 4] });
    // The written config carries the plugin, so a saved model is rebuilt with it.
    expect((model.officialConfig as { model: { vq_model: Record<string, unknown> } }).model.vq_model.quantizer).toEqual(config.quantizer);
  });

  it('encodes and decodes, and saveTiTok → loadTiTok gives the same tokens and images', async () => {
    const x = images();
    const before = tf.memory().numTensors;
    const tokens = await model.encode(x);
    const decoded = await model.decode(tokens);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(tokens.dtype).toBe('int32');
    expect(tokens.shape).toEqual([3, 4]);
    expect(decoded.shape).toEqual([3, 16, 16, 3]);
    const ids = Array.from(await tokens.data());
    expect(ids.every((id) => id >= 0 && id < 256)).toBe(true);
    expect(new Set(ids).size).toBeGreaterThan(1);
    // lookup inverts the ids: decoding goes through the plugin's lookup.
    const codes = await model.lookup(tokens);
    const z = await model.encodeLatents(x);
    const { tokens: again, quantized } = model.quantizeLatents(z);
    expect(Array.from(await again.data())).toEqual(ids);
    expect(Array.from(await codes.data())).toEqual(Array.from(await quantized.data()));
    tf.dispose([codes, z, again, quantized]);

    const files = await saveTiTok(model);
    expect(JSON.parse(files['config.json'] as string).model.vq_model.quantizer).toEqual(config.quantizer);
    const loaded = await loadTiTok(files);
    try {
      expect(loaded.quantizer).toBeInstanceOf(ProductVQ);
      for (const [name, t] of Object.entries(model.stateDict())) {
        expect(Array.from(await loaded.stateDict()[name]!.data()), name).toEqual(Array.from(await t.data()));
      }
      const reTokens = await loaded.encode(x);
      const reDecoded = await loaded.decode(tokens);
      expect(Array.from(await reTokens.data())).toEqual(ids);
      expect(Array.from(await reDecoded.data())).toEqual(Array.from(await decoded.data()));
      tf.dispose([reTokens, reDecoded]);
    } finally {
      loaded.dispose();
    }
    tf.dispose([x, tokens, decoded]);
  });

  it('a checkpoint naming an unregistered quantizer fails with the registered names and the fix', async () => {
    const files = await saveTiTok(model);
    quantizerRegistry.unregister(PLUGIN);
    try {
      const before = tf.memory().numTensors;
      const error = await loadTiTok(files).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/unknown quantizer "test-product-vq"; registered quantizers: .*"vq"/);
      expect((error as Error).message).toMatch(/Import the package that registers "test-product-vq"/);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      registerQuantizer(PLUGIN, (c) => new ProductVQ(c));
    }
  });

  it('without `quantizer` the official VQ comes from the registry, with its official key', () => {
    const official = createTiTok({ ...config, quantizer: undefined }, { seed: 1 });
    try {
      expect(official.quantizer?.type).toBe('vq');
      expect(official.tokens.vocabSize).toBe(64);
      expect(Object.keys(official.stateDict()).filter((k) => k.startsWith('quantize.'))).toEqual(['quantize.embedding.weight']);
    } finally {
      official.dispose();
    }
  });
});
