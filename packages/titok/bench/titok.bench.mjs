// TiTok encode and decode images/s at the real sizes of S-128, B-64 and L-32 (random weights), batch 1
// and 8, with GFLOP/s from the analytic count (src/flops.ts), the ratio to the official PyTorch code's
// figures (issue 4: torch 2.13, MKL/oneDNN, 2 threads, fp32, batch 8, a 2-core AVX-512 machine), peak
// memory, and where the time goes (per-kernel times from tf.profile).
//
// cpu (pure JS) and WebGPU on SwiftShader are far too slow for the real sizes: they run a reduced model,
// labelled as such in every row. CPU time is reported next to wall time: on a shared machine the wall time
// depends on the load, the CPU time much less.
import { SeededRandom } from '@vtok/core';
import { createTiTok, titokFlops } from '@vtok/titok';

/** Images per second of the official code (issue 4), batch 8. */
const PYTORCH = {
  'titok-s-128': { encode: 5.6, decode: 0.52 },
  'titok-b-64': { encode: 2.1, decode: 0.57 },
  'titok-l-32': { encode: 0.75, decode: 0.3 },
};

/** Not a released model: small enough for the pure-JS and software-GPU backends. */
const REDUCED = {
  model: {
    vq_model: {
      codebook_size: 4096,
      token_size: 12,
      use_l2_norm: true,
      commitment_cost: 0.25,
      vit_enc_model_size: { width: 128, num_layers: 2, num_heads: 4 },
      vit_dec_model_size: { width: 128, num_layers: 2, num_heads: 4 },
      vit_enc_patch_size: 16,
      vit_dec_patch_size: 16,
      num_latent_tokens: 32,
      pixel_decoder: { hidden_channels: 32, channel_mult: [1, 1, 2], num_res_blocks: 1, z_channels: 64 },
      pixel_quantize: { num_embeddings: 1024, embedding_dim: 64 },
    },
  },
  dataset: { preprocessing: { crop_size: 64 } },
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Kernel name → total ms and calls, op scopes left out (they wrap kernels already counted). */
function kernelTimes(kernels) {
  const byName = new Map();
  for (const k of kernels) {
    if (k.name.includes('__op') || k.name === 'unnamed scope') continue;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs ?? 0;
    entry.calls++;
    byName.set(k.name, entry);
  }
  return [...byName].sort((a, b) => b[1].ms - a[1].ms);
}

export default async function ({ tf, info, time, quick }) {
  const softwareGpu = info.name === 'webgpu' && /swiftshader|software|cpu/i.test(info.device);
  const real = (info.name === 'wasm' || info.name === 'cuda' || info.name === 'webgpu') && !softwareGpu;
  const specs = real ? ['titok-s-128', 'titok-b-64', 'titok-l-32'] : ['reduced'];
  const batches = quick ? [1] : [1, 8];
  const rows = [];
  const rng = new SeededRandom(0);

  for (const spec of specs) {
    const label = spec === 'reduced' ? `reduced model (64px, ViT 128×2, NOT a real size; ${info.name} is too slow for real sizes)` : spec;
    const model = createTiTok(spec === 'reduced' ? REDUCED : spec, { seed: 0, init: 'none' });
    const flops = titokFlops(model.config);
    const size = model.config.imageSize;
    for (const batch of batches) {
      const images = rng.uniform([batch, size, size, 3]);
      const tokens = await model.encode(images);
      for (const [what, run, perImage] of [
        ['encode', () => model.encode(images), flops.encode],
        ['decode', () => model.decode(tokens), flops.decode],
      ]) {
        const name = `${label} ${what} batch ${batch}`;
        // Batch 1 is timed (warm-up, then repeats); batch 8 runs once, under the profiler.
        let timed;
        if (batch === 1) {
          const c0 = cpuMs();
          timed = await time(run, { warmup: 1, maxReps: quick ? 1 : 5, minMs: quick ? 0 : 4000 });
          timed.cpuMs = (cpuMs() - c0) / (timed.reps + 1);
        }
        const base = tf.memory().numBytes;
        const c0 = cpuMs();
        const t0 = performance.now();
        const profile = await tf.profile(async () => {
          const out = await run();
          await out.data();
          out.dispose();
        });
        const wall = performance.now() - t0;
        const cpu = cpuMs() - c0;
        const ms = timed ? timed.ms : wall;
        const cpuPerRun = timed ? timed.cpuMs : cpu;
        const total = perImage * batch;
        const pytorch = PYTORCH[spec]?.[what];
        const row = {
          case: name,
          ms,
          reps: timed ? timed.reps : 1,
          perSecond: (batch * 1000) / ms,
          gflops: total / ms / 1e6,
          cpuMs: cpuPerRun,
          gflopsPerCpuSecond: total / cpuPerRun / 1e6,
          gflopPerImage: perImage / 1e9,
          peakBytes: profile.peakBytes - base,
          newTensors: profile.newTensors,
        };
        if (pytorch) {
          row.pytorchPerSecond = pytorch;
          row.vsPytorch = row.perSecond / pytorch;
          // As if this process had had its CPU to itself (one thread), against PyTorch's two.
          row.vsPytorchCpuTime = (batch * 1000) / cpuPerRun / pytorch;
        }
        rows.push(row);
        // Where the time goes: the five heaviest kernels of this run.
        const kernels = kernelTimes(profile.kernels);
        const kernelTotal = kernels.reduce((s, [, k]) => s + k.ms, 0);
        for (const [kernel, k] of kernels.slice(0, 5)) {
          rows.push({ case: `  ${name}: kernel ${kernel}`, ms: k.ms, reps: k.calls, share: k.ms / kernelTotal });
        }
      }
      tf.dispose([images, tokens]);
    }
    model.dispose();
  }
  return rows;
}
