// Tokens-only sampling with the released TiTok-L-32 generator configuration (ImageBert, 177M parameters,
// random weights): batch 8, 8 steps, the official sampling settings (linear guidance 4.5, so step 0 runs one
// forward pass and steps 1-7 two: 15 passes, as the official generate(); vtok batches each guided pair).
// The official PyTorch code on a 2-core CPU (fp32, 2 threads) gives 0.66 samples/s (issue 5).
import { createMaskGIT, guidanceScaleAt, maskgitParameterCount, MASKGIT_PRESETS } from '@vtok/maskgit';

const PYTORCH_SAMPLES_PER_SECOND = 0.66;

/** Forward passes of batch B the official generate() runs: one when the step's guidance scale is 0, else two. */
function forwardPasses(steps, { guidanceDecay, guidanceScale }) {
  let passes = 0;
  for (let s = 0; s < steps; s++) passes += guidanceScaleAt(s, steps, guidanceDecay, guidanceScale, 3) !== 0 ? 2 : 1;
  return passes;
}

export default async function ({ tf, info, time, peak, quick }) {
  const preset = MASKGIT_PRESETS['titok-l-32'].config;
  const label = `L-32 generator (${(maskgitParameterCount(preset) / 1e6).toFixed(1)}M)`;
  // WebGPU on SwiftShader (a CPU emulation) took 22 minutes for even the shrunk run below on the
  // 2-core machine: measure it on a real GPU.
  if (info.name === 'webgpu' && /swiftshader/i.test(info.device)) {
    return [{ case: `${label} [skipped: WebGPU runs on SwiftShader (software) here; batch 1 x 2 steps took 22 min]`, ms: NaN, reps: 0 }];
  }
  // The pure-JavaScript cpu backend runs ~20x slower than wasm: a full run would take over an hour, so it
  // gets a shrunk run (batch 1, 2 steps) and says so.
  const shrunk = info.name === 'cpu';
  const full = !shrunk && !quick;
  const batch = full ? 8 : shrunk ? 1 : 2;
  const steps = full ? 8 : 2;
  const note = full ? '' : shrunk ? `shrunk to batch ${batch}, ${steps} steps: the cpu backend is pure JavaScript` : 'quick run';

  const model = createMaskGIT(preset, { seed: 0 });
  const classes = Array.from({ length: batch }, (_, i) => (i * 97) % 1000);
  const run = () => model.sample({ classes, steps, seed: 1 });
  const t = await time(run, full ? { warmup: 1, maxReps: 3, minMs: 1 } : { warmup: 0, maxReps: 1, minMs: 1 });
  const p = full ? await peak(run) : {};
  model.dispose();

  const perSecond = (batch * 1000) / t.ms;
  const passes = forwardPasses(steps, preset.sampling);
  // FLOPs of one forward pass per sample: 24 layers of (4 h^2 + 2 h f) MACs per token over L+1 tokens,
  // attention 2 (L+1)^2 h per layer, the lm_head L h K.
  const n = 33, h = 768, f = 3072, layers = 24, k = 4096;
  const flopsPerPass = 2 * (layers * (n * (4 * h * h + 2 * h * f) + 2 * n * n * h) + 32 * h * k);
  return [
    {
      case: `${label}, batch ${batch}, ${steps} steps, ${passes} passes${note ? ` [${note}]` : ''}`,
      ms: t.ms,
      reps: t.reps,
      perSecond,
      gflops: (batch * passes * flopsPerPass) / t.ms / 1e6,
      ...(full ? { vsPyTorch: perSecond / PYTORCH_SAMPLES_PER_SECOND } : {}),
      ...p,
    },
  ];
}
