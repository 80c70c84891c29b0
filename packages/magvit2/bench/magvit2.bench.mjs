// Open-MAGVIT2 tokenizer throughput: the released 256² image configuration (imagenet-256-l, 115 M
// parameters, random weights) encode and decode, and the released video configuration
// (ucf101-video-128-L) encoding a 17-frame 128² clip, with peak memory. The pure-JS cpu backend and
// WebGPU on SwiftShader (a CPU emulation) are far too slow for real sizes: there the same networks run
// on reduced inputs, and the case names say so.
import { createMagvit2, decodedFrames, latentFrames, spatialFactor } from '@vtok/magvit2';
import { SeededRandom } from '@vtok/core';

/** Multiply-add FLOPs (2 per MAC) of the convolutions and AdaGN linears, walking the architecture. */
function flops(config, frames, size, part) {
  const { ch, chMult, numResBlocks: R, zChannels: z, variant } = config;
  const video = variant === 'video';
  const k3 = video ? 27 : 9;
  let total = 0;
  const conv = (t, h, w, cin, cout, k) => (total += 2 * t * h * w * cin * cout * k);
  const res = (t, h, w, cin, cout) => {
    conv(t, h, w, cin, cout, k3);
    conv(t, h, w, cout, cout, k3);
    if (cin !== cout) conv(t, h, w, cin, cout, 1);
  };
  if (part === 'encode') {
    let [t, h, w] = [frames, size, size];
    conv(t, h, w, 3, ch, k3);
    let c = ch;
    chMult.forEach((m, i) => {
      for (let j = 0; j < R; j++) res(t, h, w, j === 0 ? c : ch * m, ch * m);
      c = ch * m;
      if (i < chMult.length - 1) {
        const st = video && m !== 1 ? 2 : 1;
        t = Math.floor((t - 1) / st) + 1;
        h /= 2;
        w /= 2;
        conv(t, h, w, c, c, k3);
      }
    });
    for (let j = 0; j < R; j++) res(t, h, w, c, c);
    conv(t, h, w, c, z, 1);
  } else {
    const f = spatialFactor(config);
    let [t, h, w] = [video ? latentFrames(config, frames) : 1, size / f, size / f];
    let c = ch * chMult[chMult.length - 1];
    conv(t, h, w, z, c, k3);
    for (let j = 0; j < R; j++) res(t, h, w, c, c);
    for (let i = chMult.length - 1; i >= 0; i--) {
      for (let j = 0; j < R; j++) res(t, h, w, j === 0 ? c : ch * chMult[i], ch * chMult[i]);
      if (R > 0) c = ch * chMult[i];
      if (i > 0) {
        const bt = video && chMult[i - 1] !== 1 ? 2 : 1;
        conv(t, h, w, c, c * bt * 4, k3);
        t = bt === 2 && t > 1 ? 2 * t - 1 : t;
        h *= 2;
        w *= 2;
      }
    }
    conv(t, h, w, c, 3, k3);
  }
  return total;
}

export default async function ({ tf, info, time, peak, quick }) {
  const rng = new SeededRandom(0);
  const rows = [];
  // Progress on stderr (the runner passes it through): real-size cases take minutes on a CPU.
  const push = (row) => {
    rows.push(row);
    console.error(`[magvit2 bench] ${info.name}: ${row.case}: ${(row.ms / 1000).toFixed(1)} s`);
  };
  const software = info.name === 'cpu' || (info.name === 'webgpu' && /swiftshader|software|cpu/i.test(info.device));
  const reduced = software || quick;
  // SwiftShader runs convolutions at about 0.2 GFLOP/s here, slower still than the pure-JS cpu backend.
  const swiftshader = software && info.name === 'webgpu';
  const label = (what, shape) => `${what} ${shape}${reduced ? ` (REDUCED input${software ? `: ${info.name === 'cpu' ? 'pure-JS cpu' : 'SwiftShader'} is too slow for the real size` : ': --quick'})` : ''}`;

  // Image: imagenet-256-l at 256² (16×16 tokens); reduced: the same network on 64² (cpu) or 32² (SwiftShader).
  {
    const size = swiftshader ? 32 : reduced ? 64 : 256;
    const batch = 1;
    const tok = createMagvit2('imagenet-256-l', { seed: 0, imageSize: size });
    const x = rng.uniform([batch, size, size, 3], 0, 1);
    const opts = { warmup: 1, minMs: 0, maxReps: reduced ? 1 : 3 };
    const enc = await time(() => tok.encode(x), opts);
    const encPeak = await peak(() => tok.encode(x));
    const encFlops = batch * flops(tok.model.config, 1, size, 'encode');
    push({
      case: label(`imagenet-256-L encode b${batch}`, `${size}²`),
      ms: enc.ms,
      reps: enc.reps,
      perSecond: (1000 * batch) / enc.ms,
      gflops: encFlops / enc.ms / 1e6,
      params: tok.model.parameterCount(),
      ...encPeak,
    });
    const ids = await tok.encode(x);
    const dec = await time(() => tok.decode(ids), opts);
    const decPeak = await peak(() => tok.decode(ids));
    const decFlops = batch * flops(tok.model.config, 1, size, 'decode');
    push({
      case: label(`imagenet-256-L decode b${batch}`, `${size}²`),
      ms: dec.ms,
      reps: dec.reps,
      perSecond: (1000 * batch) / dec.ms,
      gflops: decFlops / dec.ms / 1e6,
      ...decPeak,
    });
    tf.dispose([x, ids]);
    tok.dispose();
  }

  // Video: ucf101-video-128-l encoder, 17 frames of 128² -> 5×16×16 tokens; reduced: 5 frames of 32² (16²).
  {
    const [frames, size] = swiftshader ? [5, 16] : reduced ? [5, 32] : [17, 128];
    const tok = createMagvit2('ucf101-video-128-l', { seed: 0, parts: ['encoder'], frames, imageSize: size });
    const x = rng.uniform([1, frames, size, size, 3], 0, 1);
    // A real-size clip takes minutes on a CPU, so it runs once: timed while tf.profile records the peak
    // memory (profiling waits for every kernel, so this time is an upper bound). Reduced: separate runs.
    let enc;
    let encPeak;
    if (reduced) {
      enc = await time(() => tok.encode(x), { warmup: 1, minMs: 0, maxReps: 1 });
      encPeak = await peak(() => tok.encode(x));
    } else {
      const t0 = performance.now();
      encPeak = await peak(() => tok.encode(x));
      enc = { ms: performance.now() - t0, reps: 1 };
    }
    const f = flops(tok.model.config, frames, size, 'encode');
    push({
      case: label(`ucf101-video-128-L encode ${frames}f`, `${size}² -> ${latentFrames(tok.model.config, frames)}×${size / 8}²${reduced ? '' : ', one run timed under tf.profile'}`),
      ms: enc.ms,
      reps: enc.reps,
      perSecond: 1000 / enc.ms,
      gflops: f / enc.ms / 1e6,
      params: tok.model.parameterCount(),
      decodedFrames: decodedFrames(tok.model.config, latentFrames(tok.model.config, frames)),
      ...encPeak,
    });
    x.dispose();
    tok.dispose();
  }
  return rows;
}
