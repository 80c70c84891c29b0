#!/usr/bin/env node
// One benchmark file on one backend (a child of scripts/bench.mjs). Prints one JSON line last.
import * as tf from '@tensorflow/tfjs-core';
import { probeBackends, useBackend } from '@vtok/core';

const [file, backend, flag] = process.argv.slice(2);

if (file === '--probe') {
  console.log(JSON.stringify(await probeBackends()));
  process.exit(0);
}

const info = await useBackend(backend, { ignoreEnv: true });
const quick = flag === '--quick';

/**
 * Times `run` (which returns tensors or a promise of them): warm-up runs first (shader compilation,
 * kernel caches), then repeats until `minMs` has passed or `maxReps` runs; reports the median.
 * Reading one value back makes sure asynchronous backends have finished the work.
 */
async function time(run, { warmup = 1, minMs = quick ? 200 : 2000, maxReps = quick ? 2 : 20, minReps = 1 } = {}) {
  const once = async () => {
    const out = await run();
    const list = Array.isArray(out) ? out : [out];
    await list[0].data();
    tf.dispose(list);
  };
  for (let i = 0; i < warmup; i++) await once();
  const samples = [];
  const start = performance.now();
  while (samples.length < minReps || (samples.length < maxReps && performance.now() - start < minMs)) {
    const t0 = performance.now();
    await once();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)], reps: samples.length };
}

/** Peak bytes and tensors allocated by one run. */
async function peak(run) {
  const info = await tf.profile(async () => {
    const out = await run();
    const list = Array.isArray(out) ? out : [out];
    await list[0].data();
    tf.dispose(list);
  });
  return { peakBytes: info.peakBytes, newTensors: info.newTensors };
}

const mod = await import(file);
const rows = await mod.default({ tf, info, time, peak, quick });
console.log(JSON.stringify({ backend: info.name, device: info.device, tfBackend: info.tfBackend, rows }));
