// One training step (forward, tf.variableGrads, an Adam update) of each model vtok trains, on wasm:
// no kernel may run on the pure-JS cpu fallback (cpuFallbackCalls() stays empty), every gradient is
// finite, and nothing is left behind. No kernel is exempt today; one that truly cannot run on wasm
// would be named here with its reason.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createQuantizer, groupNorm, type Module, SeededRandom } from '@vtok/core';
import { createMagvit2 } from '@vtok/magvit2';
import { createMaskGIT, maskTokens, mlmLoss } from '@vtok/maskgit';
import '@vtok/quantizers';
import { createTiTok } from '@vtok/titok';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpuFallbackCalls, cpuFallbackLiveTensors, resetCpuFallbackCalls, wasm } from '../src/index';

const rng = new SeededRandom(1);

/**
 * Runs forward + backward + update once and returns the kernels that ran on the cpu fallback. The
 * loss function may make tensors; the step must free all of them and its gradients.
 */
async function trainingStep(variables: tf.Variable[], loss: () => tf.Scalar): Promise<Record<string, number>> {
  const before = tf.memory().numTensors;
  const optimizer = tf.train.adam(1e-3);
  resetCpuFallbackCalls();
  const { value, grads } = tf.variableGrads(loss, variables);
  const finite = tf.tidy(() => tf.all(tf.stack(Object.values(grads).map((g) => tf.all(tf.isFinite(g))))));
  expect(await finite.data(), 'every gradient is finite').toEqual(new Uint8Array([1]));
  optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  const calls = cpuFallbackCalls();
  tf.dispose([value, finite, ...Object.values(grads)]);
  optimizer.dispose();
  expect(tf.memory().numTensors, 'live tensors after the step').toBe(before);
  expect(cpuFallbackLiveTensors()).toBe(0);
  return calls;
}

const vars = (m: Module) => m.trainableVariables();

function magvit2Config(video: boolean): Record<string, unknown> {
  return {
    model: {
      class_path: video ? 'src.Open_MAGVIT2.models.video_lfqgan.VQModel' : 'src.Open_MAGVIT2.models.lfqgan.VQModel',
      init_args: {
        ddconfig: { double_z: false, z_channels: 6, resolution: 16, in_channels: 3, out_ch: 3, ch: 32, ch_mult: [1, 2, 1], num_res_blocks: 1 },
        n_embed: 64,
        embed_dim: 6,
        sample_minimization_weight: 1.0,
        batch_maximization_weight: 1.0,
      },
    },
    data: { init_args: { validation: { params: { config: { size: 16, ...(video ? { sequence_length: 5 } : {}) } } } } },
  };
}

describe('one training step on wasm runs no kernel on the cpu fallback', () => {
  beforeAll(async () => {
    await wasm().activate();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('TiTok (ViT encoder, VQ, ViT decoder, proxy-code lookup, MaskGIT-VQGAN pixel decoder)', async () => {
    const titok = createTiTok(
      {
        model: {
          vq_model: {
            codebook_size: 64,
            token_size: 12,
            use_l2_norm: true,
            commitment_cost: 0.25,
            vit_enc_model_size: { width: 32, num_layers: 1, num_heads: 2 },
            vit_dec_model_size: { width: 32, num_layers: 1, num_heads: 2 },
            vit_enc_patch_size: 8,
            vit_dec_patch_size: 8,
            num_latent_tokens: 4,
            finetune_decoder: true,
            pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1], num_res_blocks: 1, z_channels: 16 },
            pixel_quantize: { num_embeddings: 32, embedding_dim: 16 },
          },
        },
        dataset: { preprocessing: { crop_size: 16 } },
      },
      { seed: 1 },
    );
    const images = rng.uniform([2, 16, 16, 3], 0, 1);
    const calls = await trainingStep(vars(titok), () => {
      const q = titok.quantizer!.quantize(titok.encoder.forward(images, titok.latentTokens), { training: true });
      const pixels = titok.pixelDecoder!.forward(titok.pixelCodebook!.softLookup(titok.decoder.forward(q.quantized)));
      return tf.add(tf.mean(tf.abs(tf.sub(pixels, 0.5))), tf.addN(Object.values(q.losses))) as tf.Scalar;
    });
    expect(calls).toEqual({});
    tf.dispose(images);
    titok.dispose();
  });

  it('MaskGIT generator (token and class embeddings: the gather gradient)', async () => {
    const model = createMaskGIT({ codebookSize: 8, numClasses: 2, tokenShape: [6], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, dropout: 0, attnDrop: 0 }, { seed: 1 });
    const tokens = tf.tensor2d([[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]], [2, 6], 'int32');
    const { masked, mask } = maskTokens(tokens, { maskId: model.vocabulary.maskId, seed: 3 });
    const calls = await trainingStep(vars(model), () => mlmLoss(model.logits(masked, [0, 1], { training: true }), tokens, mask).loss as tf.Scalar);
    expect(calls).toEqual({});
    tf.dispose([tokens, masked, mask]);
    model.dispose();
  });

  for (const video of [false, true]) {
    it(`MAGVIT-v2 ${video ? 'video (causal 3D convs over 5 frames)' : 'image'}, batch 1 (GroupNorm as a depthwise conv), LFQ`, async () => {
      const tokenizer = createMagvit2(magvit2Config(video), { seed: 1 });
      const x = rng.uniform([1, ...tokenizer.inputShape], -1, 1);
      const calls = await trainingStep(vars(tokenizer.model), () => {
        const out = tokenizer.model.forward(x, { training: true });
        return tf.add(tf.mean(tf.square(tf.sub(out.reconstruction, x))), tf.addN(Object.values(out.losses))) as tf.Scalar;
      });
      expect(calls).toEqual({});
      tf.dispose(x);
      tokenizer.dispose();
    });
  }

  for (const spec of [
    { type: 'vq', dim: 8, codebookSize: 32 },
    { type: 'lfq', dim: 6, codebookSize: 64 },
    { type: 'fsq', levels: [8, 5, 5], dim: 3 },
  ] as const) {
    it(`quantizer ${spec.type}: straight-through gradient and its losses`, async () => {
      const quantizer = createQuantizer(spec as never);
      const z = tf.variable(rng.normal([2, 5, spec.dim]));
      const own = (quantizer as unknown as Partial<Module>).trainableVariables?.() ?? [];
      const calls = await trainingStep([z, ...own], () => {
        const out = quantizer.quantize(z, { training: true });
        const losses = Object.values(out.losses);
        const fit = tf.sum(tf.square(out.quantized));
        return (losses.length ? tf.add(fit, tf.addN(losses)) : fit) as tf.Scalar;
      });
      expect(calls).toEqual({});
      z.dispose();
      quantizer.dispose();
    });
  }

  it('PatchGAN-style discriminator: conv, GroupNorm, LeakyReLU, stride-2 depthwise blur, strided conv, maxPool and avgPool', async () => {
    const w1 = tf.variable(rng.normal([3, 3, 3, 8], 0, 0.2));
    const w2 = tf.variable(rng.normal([4, 4, 8, 8], 0, 0.2));
    const gamma = tf.variable(tf.ones([8]));
    const beta = tf.variable(tf.zeros([8]));
    const head = tf.variable(rng.normal([8, 1], 0, 0.2));
    // A fixed [1, 2, 1]ᵀ[1, 2, 1]/16 blur per channel, applied at stride 2 (anti-aliased down-sampling).
    const blur = tf.tidy(() => tf.tile(tf.reshape(tf.tensor1d([1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16)), [3, 3, 1, 1]), [1, 1, 8, 1]));
    const x = rng.uniform([2, 16, 16, 3], -1, 1);
    const calls = await trainingStep([w1, w2, gamma, beta, head], () => {
      let h = tf.leakyRelu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'), 0.2);
      h = tf.depthwiseConv2d(h, blur as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      h = tf.conv2d(h, w2 as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      h = tf.leakyRelu(groupNorm(h, 4, gamma, beta) as tf.Tensor4D, 0.2);
      h = tf.add(tf.maxPool(h, 2, 1, 'same'), tf.avgPool(h, 3, 1, 'same'));
      // Hinge loss on "real".
      return tf.mean(tf.relu(tf.sub(1, tf.matMul(tf.mean(h, [1, 2]), head)))) as tf.Scalar;
    });
    expect(calls).toEqual({});
    tf.dispose([w1, w2, gamma, beta, head, blur, x]);
  });

  it('small CNN classifier: conv, relu, maxPool, dense, softmax cross-entropy', async () => {
    const conv = tf.variable(rng.normal([3, 3, 1, 8], 0, 0.3));
    const dense = tf.variable(rng.normal([4 * 4 * 8, 10], 0, 0.1));
    const images = rng.uniform([4, 8, 8, 1], 0, 1);
    const labels = tf.oneHot(tf.tensor1d([1, 3, 5, 7], 'int32'), 10);
    const calls = await trainingStep([conv, dense], () => {
      const h = tf.maxPool(tf.relu(tf.conv2d(images as tf.Tensor4D, conv as tf.Tensor4D, 1, 'same')), 2, 2, 'valid');
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.reshape(h, [4, -1]), dense)) as tf.Scalar;
    });
    expect(calls).toEqual({});
    tf.dispose([conv, dense, images, labels]);
  });
});
