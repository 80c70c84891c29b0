// Training speed of a small TiTok (L2 + quantizer loss, as trainTokenizer) and a small MaskGIT (its own
// trainingLoss, as trainGenerator) through the Trainer: steps/s of forward + backward + AdamW update (clip
// 1.0 as the recipes; no EMA), ms of the forward pass alone (the same loss, training mode, no gradients),
// and both as GFLOP/s. FLOPs are counted from the config (matrix products only, as titokFlops) and a
// training step counts 3× the forward FLOPs (backward = 2× forward, the usual convention; AdamW's
// element-wise update is not counted). training/forward below 0.5 is flagged.
//
// Also lists the kernels of one training step that ran outside the active backend: on wasm the calls of
// backend-wasm's cpu fallback (kernels tfjs-wasm lacks); on webgpu the calls tfjs-webgpu ran on the CPU
// itself (WEBGPU_CPU_FORWARD: every input still in CPU memory and under WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD
// elements). A kernel missing on webgpu is not forwarded anywhere: tfjs throws, so a finished step used none.
import { SeededRandom } from '@vtok/core';
import { createMaskGIT } from '@vtok/maskgit';
import { createTiTok, titokFlops, transformerBlockFlops } from '@vtok/titok';
import { Trainer, l2Loss, quantizerLoss } from '@vtok/trainers';

const CONVENTION = 'training FLOPs = 3x forward (backward 2x); matmuls/convs counted from the config; AdamW update not counted';

/** 32×32 images, patch 4 (64 patches), ViT 128×2 both sides, 32 tokens, VQ of 1024 codes. */
const TITOK = {
  imageSize: 32,
  encoder: { width: 128, numLayers: 2, numHeads: 4 },
  decoder: { width: 128, numLayers: 2, numHeads: 4 },
  encoderPatchSize: 4,
  decoderPatchSize: 4,
  numLatentTokens: 32,
  tokenSize: 12,
  quantizeMode: 'vq',
  codebookSize: 1024,
  useL2Norm: true,
  commitmentCost: 0.25,
  isLegacy: false,
  finetuneDecoder: false,
  pixelCodebookSize: 0,
};

/** 32 tokens of that TiTok's 1024 codes, 10 classes, BERT 128×2 (MLP 512). */
const MASKGIT = { codebookSize: 1024, tokenShape: [32], numClasses: 10, hiddenSize: 128, numLayers: 2, numHeads: 4, intermediateSize: 512 };

/** Forward FLOPs per sample of ImageBert: L+1 tokens (the class token) through the blocks, the lm head on L. */
function maskgitFlops(c) {
  // transformerBlockFlops assumes an MLP of 4× the width.
  if (c.intermediateSize !== 4 * c.hiddenSize) throw new Error('maskgitFlops counts MLPs of 4x the hidden size');
  const length = c.tokenShape.reduce((a, b) => a * b, 1);
  return c.numLayers * transformerBlockFlops(length + 1, c.hiddenSize) + 2 * length * c.hiddenSize * c.codebookSize;
}

/** Kernel calls of one run of `fn` that left the backend, by kernel name; undefined where we cannot tell. */
async function outsideBackend(tf, backend, fn) {
  if (backend === 'wasm') {
    const { cpuFallbackCalls, resetCpuFallbackCalls } = await import('@vtok/backend-wasm');
    resetCpuFallbackCalls();
    await fn();
    return cpuFallbackCalls();
  }
  if (backend === 'cpu') {
    await fn();
    return {};
  }
  if (backend !== 'webgpu') return undefined;
  // tfjs-webgpu asks shouldExecuteOnCPU(inputs) inside the kernel; a yes is followed by the cpu kernel
  // when it has one, whose output then lives in CPU memory. Wrap every webgpu kernel to note which one
  // asked, for this one run only (the timed runs are not instrumented).
  const gpu = tf.backend();
  const calls = {};
  const stack = [];
  const ask = gpu.shouldExecuteOnCPU;
  gpu.shouldExecuteOnCPU = function (...args) {
    const yes = ask.apply(this, args);
    if (yes && stack.length) stack[stack.length - 1].yes = true;
    return yes;
  };
  const originals = tf.getKernelsForBackend('webgpu');
  const onCpu = (info) => {
    const data = gpu.tensorMap.get(info.dataId);
    return data != null && data.resource == null && data.values != null;
  };
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, 'webgpu');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const frame = { yes: false };
        stack.push(frame);
        try {
          const out = k.kernelFunc(args);
          if (frame.yes && (Array.isArray(out) ? out : [out]).every(onCpu)) calls[k.kernelName] = (calls[k.kernelName] ?? 0) + 1;
          return out;
        } finally {
          stack.pop();
        }
      },
    });
  }
  try {
    await fn();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, 'webgpu');
      tf.registerKernel(k);
    }
    delete gpu.shouldExecuteOnCPU;
  }
  return calls;
}

export default async function ({ tf, info, time, peak, quick }) {
  const softwareGpu = info.name === 'webgpu' && /swiftshader|software/i.test(info.device);
  // Steps per timed run; the runs end with a read-back (fit reads the last step's loss), so asynchronous
  // backends have finished. One on the slow backends: a MaskGIT step takes over a minute on pure-JS cpu.
  const stepsPerRun = softwareGpu || info.name === 'cpu' ? 1 : quick ? 2 : 5;
  const timing = quick ? { warmup: 1, maxReps: 1, minMs: 0 } : { warmup: 1, maxReps: 5, minMs: 3000 };
  const rng = new SeededRandom(0);
  const rows = [{ case: `FLOP convention: ${CONVENTION}`, ms: NaN, flopConvention: CONVENTION }];

  const titok = createTiTok(TITOK, { seed: 0 });
  const titokBatch = 16;
  const images = rng.uniform([titokBatch, 32, 32, 3]);
  const perImage = titokFlops(titok.config);
  const titokLoss = (batch) => {
    const out = titok.forward(batch.images, { training: true });
    return tf.add(l2Loss(out.reconstruction, batch.images), quantizerLoss(out));
  };

  const maskgit = createMaskGIT(MASKGIT, { seed: 0 });
  const maskgitBatch = 32;
  const tokens = tf.tensor2d(Int32Array.from({ length: maskgitBatch * 32 }, () => Math.floor(rng.next() * MASKGIT.codebookSize)), [maskgitBatch, 32], 'int32');
  const labels = tf.tensor1d(Int32Array.from({ length: maskgitBatch }, (_, i) => i % MASKGIT.numClasses), 'int32');
  const maskgitLoss = (batch, ctx) => maskgit.trainingLoss(batch.tokens, batch.labels, { random: ctx.random });

  const models = [
    {
      label: 'TiTok 32px p4 ViT 128x2 32 tokens VQ',
      module: titok,
      batch: titokBatch,
      forwardFlops: titokBatch * (perImage.encode + perImage.decode),
      // The trainer frees each batch: hand it clones (same data, no copy).
      next: () => ({ images: tf.clone(images), position: null }),
      loss: titokLoss,
      optimizer: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 1e-4 },
    },
    {
      label: 'MaskGIT 32 tokens K1024 BERT 128x2',
      module: maskgit,
      batch: maskgitBatch,
      forwardFlops: maskgitBatch * maskgitFlops(maskgit.config),
      next: () => ({ tokens: tf.clone(tokens), labels: tf.clone(labels), position: null }),
      loss: maskgitLoss,
      optimizer: { lr: 2e-4, betas: [0.9, 0.96], weightDecay: 0.03 },
    },
  ];

  for (const m of models) {
    const trainer = new Trainer({ seed: 0, phases: [{ name: 'model', module: m.module, loss: m.loss, optimizer: m.optimizer, clipGradNorm: 1 }] });
    const data = () => ({ [Symbol.iterator]: () => ({ next: () => ({ done: false, value: m.next() }) }) });
    const steps = async (n) => {
      const result = await trainer.fit(data, { steps: trainer.step + n, logEvery: n, progressBar: false });
      // fit has read the loss back already; time() wants a tensor to read.
      return tf.scalar(result.logs.loss);
    };

    const ctx = { step: 0, micro: 0, random: new SeededRandom(1), keep: () => {}, kept: () => undefined };
    const forward = () =>
      tf.tidy(() => {
        const batch = m.next();
        const out = m.loss(batch, ctx);
        return out instanceof tf.Tensor ? out : out.loss;
      });
    const f = await time(forward, timing);
    const t = await time(() => steps(stepsPerRun), timing);
    const stepMs = t.ms / stepsPerRun;
    const forwardGflops = m.forwardFlops / f.ms / 1e6;
    const trainingGflops = (3 * m.forwardFlops) / stepMs / 1e6;
    const ratio = trainingGflops / forwardGflops;
    const outside = await outsideBackend(tf, info.name, () => steps(1).then((s) => s.dispose()));
    const p = quick ? {} : await peak(() => steps(1));
    trainer.dispose();

    const flag = ratio < 0.5 ? ' [BELOW 0.5: training < half the forward rate]' : '';
    rows.push({
      case: `${m.label}, batch ${m.batch}: forward (training mode, no gradients)`,
      ms: f.ms,
      reps: f.reps,
      perSecond: (m.batch * 1000) / f.ms,
      gflops: forwardGflops,
      gflopPerPass: m.forwardFlops / 1e9,
    });
    rows.push({
      case: `${m.label}, batch ${m.batch}: training step (fwd+bwd+AdamW, 3x fwd FLOPs), steps/s in "per s"; training/forward ${ratio.toFixed(2)}${flag}`,
      ms: stepMs,
      reps: t.reps,
      stepsPerRun,
      perSecond: 1000 / stepMs,
      stepsPerSecond: 1000 / stepMs,
      gflops: trainingGflops,
      forwardGflops,
      trainingGflops,
      trainingToForward: ratio,
      belowHalf: ratio < 0.5,
      flopConvention: CONVENTION,
      gflopPerStep: (3 * m.forwardFlops) / 1e9,
      outsideBackend: outside ?? null,
      ...p,
    });
    const listed = outside === undefined ? `not measured on ${info.name}` : Object.keys(outside).length === 0 ? 'none' : Object.entries(outside).map(([k, n]) => `${k} x${n}`).join(', ');
    rows.push({ case: `  ${m.label}: kernel calls outside ${info.name} in one training step: ${listed}`, ms: NaN });
  }
  titok.dispose();
  maskgit.dispose();
  tf.dispose([images, tokens, labels]);
  return rows;
}
