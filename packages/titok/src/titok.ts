/**
 * The TiTok tokenizer (modeling/titok.py: TiTok): encoder, quantizer (VQ or the VAE's diagonal
 * Gaussian), decoder, and for the legacy two-stage models the MaskGIT-VQGAN codebook and pixel decoder.
 * Channels-last inside; the official state-dict names outside, so checkpoints round-trip to PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertBatchShape,
  assertDtype,
  assertTensor,
  ConfigError,
  Conv2d,
  createQuantizer,
  Linear,
  Module,
  normalInit,
  type QuantizeResult,
  type Quantizer,
  type QuantizerConfig,
  SeededRandom,
  StateDictError,
  type TokenizerForward,
  type TokenSpace,
  type TrainableTokenizer,
  UnknownPluginError,
} from '@vtok/core';
// Registers the built-in quantizers ('vq', 'lfq', 'fsq') with core's registry.
import '@vtok/quantizers';
import type { MaskGitVqgan } from './maskgit-vqgan';
import { officialConfigFor, type OfficialConfig, type TiTokConfig } from './config';
import { PixelCodebook } from './pixel-codebook';
import { PixelDecoder } from './pixel-decoder';
import { checkImages, checkLatents, checkTokens, inBatches } from './validate';
import { TiTokDecoder, TiTokEncoder } from './vit';

export interface TiTokOptions {
  /** Seed of the random initial weights (a model that loads a checkpoint overwrites them). */
  seed?: number;
  /**
   * 'official' (default): re-draw the ViT weights as the official code initialises them (N(0, 0.02)
   * Linear and Conv weights, zero biases). 'none': keep the layers' own PyTorch-default init (cheaper;
   * loaders use it, since the checkpoint replaces every value anyway).
   */
  init?: 'official' | 'none';
  /** The official config tree this model came from; `saveTiTok` writes it back unchanged. */
  officialConfig?: OfficialConfig;
  /**
   * Images run through the ViTs together at most (larger batches are split). Default: 8 at 256², scaled
   * with the pixel count (512 at 32²), as MaskGitVqgan's.
   */
  maxBatch?: number;
  /**
   * Images run through the MaskGIT-VQGAN pixel decoder together at most. Its activations at 256² are
   * 32 MB per image and channel block, so one image at a time bounds memory. Default: as many as fit 256²
   * pixels (1 at 256², 64 at 32²), as MaskGitVqgan's.
   */
  maxPixelBatch?: number;
}

export interface DecodeOptions {
  /** Clamp to [0, 1] as the official demo does before writing images (default true). */
  clamp?: boolean;
}

export interface EncodeLatentsOptions {
  /** VAE: draw mean + std·ε (the official `encode`) instead of returning the mean. Default false. */
  sample?: boolean;
  /** Seed of ε when sampling. */
  seed?: number;
}

export interface Posterior {
  /** [B, L, tokenSize]. */
  mean: tf.Tensor;
  /** [B, L, tokenSize], clamped to [−30, 20] as DiagonalGaussianDistribution does. */
  logvar: tf.Tensor;
}

export interface QuantizedLatents {
  /** int32 [B, L]. */
  tokens: tf.Tensor;
  /** The code vectors of the tokens, [B, L, tokenSize] (l2-normalised when the codebook is). */
  quantized: tf.Tensor;
}

export class TiTok extends Module implements TrainableTokenizer {
  readonly specificationVersion = 'v1' as const;
  readonly latentTokens: tf.Variable;
  readonly encoder: TiTokEncoder;
  readonly decoder: TiTokDecoder;
  /**
   * The quantizer (VQ models), built through @vtok/core's registry: the official VQ by default, or the
   * plugin `config.quantizer` names. When it is a Module its state dict is TiTok's `quantize.*`.
   */
  readonly quantizer?: Quantizer;
  readonly pixelCodebook?: PixelCodebook;
  readonly pixelDecoder?: PixelDecoder;
  readonly tokens: TokenSpace;
  readonly inputShape: readonly number[];
  /** What `decode` returns per image, [H, W, 3]. */
  readonly outputShape: readonly number[];
  /** The official config tree; written by saveTiTok. */
  readonly officialConfig: OfficialConfig;
  private readonly maxBatch: number;
  /** False after setEncoderTrainable(false): the quantizer then makes no training-time codebook updates. */
  private encoderTrainable = true;
  private readonly maxPixelBatch: number;
  /** A quantizer that is not a Module (no state-dict entries): disposed with the model. */
  private plainQuantizer?: Quantizer;

  constructor(
    readonly config: TiTokConfig,
    options: TiTokOptions = {},
  ) {
    super();
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    const c = config;
    const per256 = Math.max(1, Math.floor(2 ** 16 / config.imageSize ** 2));
    this.maxBatch = positive(options.maxBatch ?? 8 * per256, 'maxBatch');
    this.maxPixelBatch = positive(options.maxPixelBatch ?? per256, 'maxPixelBatch');
    this.officialConfig = options.officialConfig ? structuredClone(options.officialConfig) : officialConfigFor(config);
    this.latentTokens = this.addParameter('latent_tokens', normalInit(rng, [c.numLatentTokens, c.encoder.width], 0, c.encoder.width ** -0.5));
    this.encoder = this.addModule(
      'encoder',
      new TiTokEncoder({
        size: c.encoder,
        imageSize: c.imageSize,
        patchSize: c.encoderPatchSize,
        numLatentTokens: c.numLatentTokens,
        outChannels: c.quantizeMode === 'vae' ? 2 * c.tokenSize : c.tokenSize,
        isLegacy: c.isLegacy,
        rng,
      }),
    );
    this.decoder = this.addModule(
      'decoder',
      new TiTokDecoder({
        size: c.decoder,
        imageSize: c.imageSize,
        patchSize: c.decoderPatchSize,
        numLatentTokens: c.numLatentTokens,
        tokenSize: c.tokenSize,
        isLegacy: c.isLegacy,
        proxyCodes: c.pixelCodebookSize,
        rng,
      }),
    );
    if ((options.init ?? 'official') === 'official') applyOfficialInit([this.encoder, this.decoder], rng);
    if (c.quantizeMode === 'vq') {
      let quantizer: Quantizer;
      try {
        quantizer = buildQuantizer(c, rng.nextUint32());
      } catch (error) {
        // An unknown or unfit quantizer: free what was built so far.
        this.dispose();
        throw error;
      }
      // A Module's parameters (the VQ's codebook `embedding.weight`, a plugin's own) join the state dict.
      if (isModule(quantizer)) this.addModule('quantize', quantizer);
      else this.plainQuantizer = quantizer;
      this.quantizer = quantizer;
    }
    if (c.finetuneDecoder) {
      const pd = c.pixelDecoder;
      if (!pd) throw new ConfigError('TiTok: finetuneDecoder needs a pixelDecoder config');
      this.pixelCodebook = this.addModule('pixel_quantize', new PixelCodebook(c.pixelCodebookSize, pd.zChannels, rng));
      this.pixelDecoder = this.addModule('pixel_decoder', new PixelDecoder(pd, rng));
    }
    this.tokens = { vocabSize: this.quantizer ? this.quantizer.codebookSize : 0, shape: [c.numLatentTokens] };
    this.inputShape = [c.imageSize, c.imageSize, 3];
    const headSize = this.decoder.grid * (this.pixelDecoder ? this.pixelDecoder.scale : c.decoderPatchSize);
    this.outputShape = [headSize, headSize, 3];
  }

  /** Latent channels: what the quantizer (or the VAE posterior) produces per token. */
  get tokenSize(): number {
    return this.config.tokenSize;
  }

  // ---------------------------------------------------------------- encoding

  /** Encoder output before quantisation: [B, L, tokenSize] (VAE: [B, L, 2·tokenSize], mean then log-variance). */
  async encodeRaw(images: tf.Tensor): Promise<tf.Tensor> {
    await checkImages(images, this.config.imageSize, 'TiTok.encode');
    if (images.shape[0] === 0) return tf.zeros([0, this.config.numLatentTokens, this.encoder.options.outChannels]);
    return inBatches(images, this.maxBatch, (chunk) => this.encodeChunk(chunk));
  }

  /** The encoder with the learned latent tokens, unchecked and synchronous (encode and forward share it). */
  private encodeChunk(images: tf.Tensor): tf.Tensor {
    return this.encoder.forward(images, this.latentTokens);
  }

  /**
   * The continuous latents, [B, L, tokenSize]: VQ models give the encoder output before quantisation;
   * VAE models the posterior mean, or with `sample` a draw mean + std·ε.
   */
  async encodeLatents(images: tf.Tensor, options: EncodeLatentsOptions = {}): Promise<tf.Tensor> {
    if (this.config.quantizeMode === 'vq') return this.encodeRaw(images);
    const { mean, logvar } = await this.encodePosterior(images);
    if (!options.sample) {
      logvar.dispose();
      return mean;
    }
    const noise = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32)).normal(mean.shape);
    const sample = tf.tidy(() => tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), noise)));
    tf.dispose([mean, logvar, noise]);
    return sample;
  }

  /** VAE models: the diagonal Gaussian posterior per token. */
  async encodePosterior(images: tf.Tensor): Promise<Posterior> {
    if (this.config.quantizeMode !== 'vae') throw new ConfigError('TiTok.encodePosterior: this is a VQ model; use encode or encodeLatents');
    const raw = await this.encodeRaw(images);
    const c = this.config.tokenSize;
    const posterior = tf.tidy(() => ({
      mean: tf.slice(raw, [0, 0, 0], [-1, -1, c]),
      logvar: tf.clipByValue(tf.slice(raw, [0, 0, c], [-1, -1, c]), -30, 20),
    }));
    raw.dispose();
    return posterior;
  }

  /** VQ: nearest codes of continuous latents [B, L, tokenSize]. */
  quantizeLatents(latents: tf.Tensor): QuantizedLatents {
    const vq = this.requireVq('quantizeLatents');
    const { quantized, indices, losses } = vq.quantize(latents, { training: false });
    tf.dispose(Object.values(losses));
    return { tokens: indices, quantized };
  }

  /** images [B, H, W, 3] float32 in [0, 1] → int32 tokens [B, L]. */
  async encode(images: tf.Tensor): Promise<tf.Tensor> {
    this.requireVq('encode');
    const latents = await this.encodeRaw(images);
    if (latents.shape[0] === 0) {
      latents.dispose();
      return tf.zeros([0, this.config.numLatentTokens], 'int32');
    }
    const { tokens, quantized } = this.quantizeLatents(latents);
    tf.dispose([latents, quantized]);
    return tokens;
  }

  // ---------------------------------------------------------------- decoding

  /** int32 tokens [B, L] → their code vectors [B, L, tokenSize] (l2-normalised when the codebook is). */
  async lookup(tokens: tf.Tensor): Promise<tf.Tensor> {
    const vq = this.requireVq('lookup');
    const ids = await checkTokens(tokens, this.config.numLatentTokens, this.tokens.vocabSize, 'TiTok.decode');
    const codes = ids.shape[0] === 0 ? tf.zeros([0, this.config.numLatentTokens, this.config.tokenSize]) : vq.lookup(ids);
    if (ids !== tokens) ids.dispose();
    return codes;
  }

  /** int32 tokens [B, L] (or [B, 1, L], as the official encode returns them) → images [B, H, W, 3] in [0, 1]. */
  async decode(tokens: tf.Tensor, options: DecodeOptions = {}): Promise<tf.Tensor> {
    const latents = await this.lookup(tokens);
    try {
      return await this.decodeQuantized(latents, options);
    } finally {
      latents.dispose();
    }
  }

  /** Quantised (VQ) or sampled (VAE) latents [B, L, tokenSize] → images [B, H, W, 3]. */
  async decodeLatents(latents: tf.Tensor, options: DecodeOptions = {}): Promise<tf.Tensor> {
    await checkLatents(latents, this.config.numLatentTokens, this.config.tokenSize, 'TiTok.decodeLatents');
    return this.decodeQuantized(latents, options);
  }

  /** Legacy models: the proxy-code logits over the MaskGIT-VQGAN codebook, [B, g, g, codes]. */
  async decodeLogits(latents: tf.Tensor): Promise<tf.Tensor> {
    if (!this.config.isLegacy) throw new ConfigError('TiTok.decodeLogits: only legacy (proxy-code) models predict logits');
    await checkLatents(latents, this.config.numLatentTokens, this.config.tokenSize, 'TiTok.decodeLogits');
    return inBatches(latents, this.maxBatch, (chunk) => this.decoder.forward(chunk));
  }

  private async decodeQuantized(latents: tf.Tensor, options: DecodeOptions): Promise<tf.Tensor> {
    const clamp = options.clamp ?? true;
    if (this.config.isLegacy && !this.pixelDecoder) {
      throw new ConfigError('TiTok.decode: this legacy model has no pixel decoder (finetune_decoder is false: a stage-1 model); use decodeLogits');
    }
    if (latents.shape[0] === 0) return tf.zeros([0, ...this.outputShape]);
    return inBatches(latents, this.maxBatch, (chunk) => {
      const images = this.decodeChunk(chunk);
      if (!clamp) return images;
      const clamped = tf.clipByValue(images, 0, 1);
      images.dispose();
      return clamped;
    });
  }

  /**
   * Quantised latents [B, L, tokenSize] → the decoder head, then (legacy models with a pixel decoder) the
   * softmax-weighted pixel codebook rows through the pixel decoder. Unclamped, unchecked, synchronous:
   * decode and forward share it. Legacy models without a pixel decoder return the proxy-code logits.
   */
  private decodeChunk(latents: tf.Tensor): tf.Tensor {
    const head = this.decoder.forward(latents);
    const codebook = this.pixelCodebook;
    const pixels = this.pixelDecoder;
    if (!(codebook && pixels)) return head;
    const z = tf.tidy(() => codebook.softLookup(head));
    head.dispose();
    const images = inBatchesSync(z, this.maxPixelBatch, (part) => pixels.forward(part));
    z.dispose();
    return images;
  }

  // ---------------------------------------------------------------- training

  /**
   * One differentiable pass, the official `TiTok.forward` = decode(encode(x)): encoder with the latent
   * tokens → quantizer (straight-through; `training` as the quantizer takes it) → decoder. Synchronous,
   * so a gradient tape (tf.variableGrads) records it; only shapes are checked. Legacy models without a
   * pixel decoder (stage 1) give proxy-code `logits` [B, g, g, codes]; the others an unclamped
   * `reconstruction` [B, H, W, 3]. The caller owns every tensor returned.
   */
  forward(images: tf.Tensor, options: { training?: boolean } = {}): TokenizerForward {
    const op = 'TiTok.forward';
    const vq = this.requireVq('forward');
    assertTensor(images, op, 'images');
    assertDtype(images, 'float32', op, 'images', { note: 'in [0, 1]' });
    assertBatchShape(images, this.inputShape, op, 'images');
    const latents = this.encodeChunk(images);
    let q: QuantizeResult;
    try {
      // A frozen quantizer (stage 2) keeps its codebook: no EMA step, no dead-code restart.
      q = vq.quantize(latents, { training: (options.training ?? false) && this.encoderTrainable });
    } finally {
      latents.dispose();
    }
    const { quantized, indices, losses } = q;
    try {
      const out = this.decodeChunk(quantized);
      return this.config.isLegacy && !this.pixelDecoder ? { logits: out, indices, losses } : { reconstruction: out, indices, losses };
    } catch (error) {
      tf.dispose([indices, ...Object.values(losses)]);
      throw error;
    } finally {
      quantized.dispose();
    }
  }

  /**
   * Stage-2 initialisation (official: the MaskGIT-VQGAN's weights into `pixel_decoder` / `pixel_quantize`):
   * copies a MaskGIT-VQGAN's decoder and codebook into this model's pixel decoder and pixel codebook.
   * Sizes must agree; every mismatch is one StateDictError and then nothing is copied.
   */
  setPixelDecoderFrom(vqgan: MaskGitVqgan): void {
    const op = 'TiTok.setPixelDecoderFrom';
    if (!this.pixelDecoder || !this.pixelCodebook) throw new ConfigError(`${op}: this model has no pixel decoder (finetune_decoder is false); build it with finetune_decoder true`);
    if (!vqgan.decoder) throw new ConfigError(`${op}: the MaskGIT-VQGAN was built without its decoder (parts: ${vqgan.parts.join(', ')})`);
    const from: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(vqgan.decoder.stateDict())) from[`pixel_decoder.${k}`] = v;
    for (const [k, v] of Object.entries(vqgan.quantize.stateDict())) from[`pixel_quantize.${k}`] = v;
    const own = this.stateDict();
    const ownPixel = Object.keys(own).filter((k) => k.startsWith('pixel_'));
    const problems = {
      missing: ownPixel.filter((k) => !(k in from)),
      unexpected: Object.keys(from).filter((k) => !(k in own)),
      mismatched: Object.entries(from)
        .filter(([k, v]) => k in own && (own[k].rank !== v.rank || own[k].shape.some((d, i) => d !== v.shape[i])))
        .map(([k, v]) => ({ name: k, expected: [...own[k].shape], got: [...v.shape] })),
    };
    if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) throw new StateDictError(problems, 'MaskGitVqgan decoder and codebook');
    // Every key is checked above; non-strict only because the rest of TiTok is not in `from`.
    this.loadStateDict(from, { strict: false, source: 'MaskGitVqgan decoder and codebook' });
  }

  /**
   * Freezes (false) or unfreezes the encoder side: latent tokens, encoder and quantizer. Stage 2 trains
   * the decoder with them frozen (the official TiTok freezes them when finetune_decoder is set).
   */
  setEncoderTrainable(trainable: boolean): this {
    this.encoderTrainable = trainable;
    for (const [name, v] of this.namedParameters()) {
      if (name === 'latent_tokens' || name.startsWith('encoder.') || name.startsWith('quantize.')) v.trainable = trainable;
    }
    return this;
  }

  override dispose(): void {
    super.dispose();
    this.plainQuantizer?.dispose();
  }

  private requireVq(method: string): Quantizer {
    if (!this.quantizer) throw new ConfigError(`TiTok.${method}: this is a VAE model (continuous tokens); use encodeLatents / decodeLatents`);
    return this.quantizer;
  }
}

/**
 * The quantizer of a VQ model through @vtok/core's registry: `config.quantizer` (a plugin, `dim` defaulting to
 * tokenSize) or the official VQ. Its `dim` must be tokenSize.
 */
function buildQuantizer(c: TiTokConfig, seed: number): Quantizer {
  const spec: QuantizerConfig = c.quantizer
    ? ({ dim: c.tokenSize, ...c.quantizer } as QuantizerConfig)
    : {
        type: 'vq',
        dim: c.tokenSize,
        codebookSize: c.codebookSize,
        useL2Norm: c.useL2Norm,
        commitmentCost: c.commitmentCost,
        // Inference does not need usage counts; they cost a histogram per call.
        trackUsage: false,
        seed,
      };
  let quantizer: Quantizer;
  try {
    quantizer = createQuantizer(spec);
  } catch (error) {
    if (error instanceof UnknownPluginError) {
      throw new ConfigError(`TiTok: ${error.message}. Import the package that registers "${error.requested}" before creating or loading this model.`);
    }
    throw error;
  }
  if (quantizer.dim !== c.tokenSize || !Number.isInteger(quantizer.codebookSize) || quantizer.codebookSize < 1) {
    const got = `dim ${quantizer.dim}, codebookSize ${quantizer.codebookSize}`;
    quantizer.dispose();
    throw new ConfigError(`TiTok: the quantizer "${spec.type}" must have dim = tokenSize (${c.tokenSize}) and a codebookSize >= 1; it has ${got}`);
  }
  return quantizer;
}

/** A quantizer that is a vtok Module (also one from another copy of @vtok/core), so it can join the state dict. */
function isModule(q: Quantizer): q is Quantizer & Module {
  if (q instanceof Module) return true;
  const m = q as unknown as Partial<Record<'namedParameters' | 'namedBuffers' | 'namedModules' | 'stateDict', unknown>>;
  return typeof m.namedParameters === 'function' && typeof m.namedBuffers === 'function' && typeof m.namedModules === 'function' && typeof m.stateDict === 'function';
}

/** Splits the batch axis into chunks of at most `size`, runs `run` on each, concatenates (synchronously). */
function inBatchesSync(x: tf.Tensor, size: number, run: (chunk: tf.Tensor) => tf.Tensor): tf.Tensor {
  const batch = x.shape[0];
  if (batch <= size) return run(x);
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < batch; start += size) {
    const chunk = tf.slice(x, start, Math.min(size, batch - start));
    parts.push(run(chunk));
    chunk.dispose();
  }
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

function positive(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`TiTok: ${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * TiTok._init_weights, applied (as upstream) to the encoder and decoder only: Linear and Conv weights
 * N(0, 0.02) (the ±2 truncation is absolute, so it never triggers), biases 0. LayerNorms already start
 * at 1 and 0; the attention's packed in_proj keeps its xavier init and zero bias.
 */
function applyOfficialInit(modules: Module[], rng: SeededRandom): void {
  for (const root of modules) {
    for (const [, m] of root.namedModules()) {
      if (!(m instanceof Linear) && !(m instanceof Conv2d)) continue;
      const w = rng.normal(m.weight.shape, 0, 0.02);
      m.weight.assign(w);
      w.dispose();
      if (m.bias) {
        const b = tf.zerosLike(m.bias);
        m.bias.assign(b);
        b.dispose();
      }
    }
  }
}
