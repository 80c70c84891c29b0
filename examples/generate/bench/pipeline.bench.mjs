// The full class-to-image pipeline of issue 5: the released TiTok-L-32 generator configuration samples
// 32 tokens per image (batch 8, 8 steps, official sampling settings: 15 guided forward passes) and
// TiTok-L-32 decodes them to 256² images, paired through composePipeline. Random weights, real sizes.
// The official PyTorch code on a 2-core CPU (fp32, 2 threads) gives 0.23 samples/s (issue 5).
import { composePipeline } from '@vtok/core';
import { createMaskGIT, MASKGIT_PRESETS } from '@vtok/maskgit';
import { createTiTok, titokFlops } from '@vtok/titok';

const PYTORCH_SAMPLES_PER_SECOND = 0.23;

export default async function ({ tf, info, time, peak, quick }) {
  const label = 'TiTok-L-32 + L-32 generator';
  // Software backends cannot run the real sizes in a useful time: cpu (pure JS) is ~20× slower than wasm
  // and WebGPU on SwiftShader slower still. Measure them on a real GPU / through the wasm row.
  if (info.name === 'cpu' || (info.name === 'webgpu' && /swiftshader/i.test(info.device))) {
    return [{ case: `${label} [skipped: ${info.name} on ${info.device} is a software backend; the real sizes take hours]`, ms: NaN, reps: 0 }];
  }
  const batch = quick ? 1 : 8;
  const steps = quick ? 2 : 8;
  const tokenizer = createTiTok('titok-l-32', { seed: 0, init: 'none' });
  const generator = createMaskGIT(MASKGIT_PRESETS['titok-l-32'].config, { seed: 0 });
  const pipeline = composePipeline({ tokenizer, generator });
  const classes = Array.from({ length: batch }, (_, i) => (i * 97) % 1000);

  // One timed run of each half (a full run takes minutes at batch 8).
  let tokens;
  const sampling = await time(async () => {
    tokens?.dispose();
    tokens = await generator.sample({ classes, steps, seed: 1 });
    return tf.clone(tokens); // time() reads back and disposes what it is given; the decode below needs these
  }, { warmup: 0, maxReps: 1, minMs: 1 });
  const decoding = await time(() => tokenizer.decode(tokens), { warmup: 0, maxReps: 1, minMs: 1 });
  tokens.dispose();
  // The whole pipeline once, under tf.profile for its peak memory (wall time taken around it).
  const started = performance.now();
  const memory = await peak(() => pipeline.generate({ classes, steps, seed: 1 }));
  const whole = { ms: performance.now() - started, reps: 1 };
  tokenizer.dispose();
  generator.dispose();

  const note = quick ? ` [quick run: batch ${batch}, ${steps} steps]` : '';
  const perSecond = (batch * 1000) / whole.ms;
  return [
    {
      case: `${label}, batch ${batch}, ${steps} steps${note}`,
      ms: whole.ms,
      reps: whole.reps,
      perSecond,
      ...(quick ? {} : { vsPyTorch: perSecond / PYTORCH_SAMPLES_PER_SECOND }),
      ...memory,
    },
    { case: `  of which sampling tokens`, ms: sampling.ms, reps: sampling.reps, perSecond: (batch * 1000) / sampling.ms },
    {
      case: `  of which TiTok-L-32 decode`,
      ms: decoding.ms,
      reps: decoding.reps,
      perSecond: (batch * 1000) / decoding.ms,
      gflops: (batch * titokFlops(tokenizer.config).decode) / decoding.ms / 1e6,
    },
  ];
}
