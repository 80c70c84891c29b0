#!/usr/bin/env node
// vtok demo: pick the best backend here, say which one runs and why the others did not, then run
// one TiTok-sized transformer block (width 768, 257 tokens) on it and check it against the cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import { cuda } from '@vtok/backend-cuda';
import { wasm } from '@vtok/backend-wasm';
import { webgpu } from '@vtok/backend-webgpu';
import { ResidualAttentionBlock, SeededRandom, useBackend } from '@vtok/core';

const width = Number(process.env.VTOK_DEMO_WIDTH ?? 768);
const tokens = 257;
const heads = width % 64 === 0 ? width / 64 : 1;

// VTOK_BACKEND=wasm (or cpu, webgpu, cuda) forces one; otherwise the fastest that works is taken.
const forced = process.env.VTOK_BACKEND;
const info = await useBackend(forced ? forced : [cuda(), webgpu(), wasm(), 'cpu']).catch((error) => {
  console.error(error.message);
  process.exit(1);
});
console.log(`backend: ${info.name} (tfjs "${info.tfBackend}") on ${info.device}`);
for (const { name, reason } of info.reasonsOthersFailed) console.log(`  not ${name}: ${reason}`);

const rng = new SeededRandom(2024);
const block = new ResidualAttentionBlock(width, heads, { rng });
const x = rng.normal([1, tokens, width]);

const run = () => tf.tidy(() => block.forward(x));
const warm = run();
await warm.data();
warm.dispose();
const t0 = performance.now();
const y = run();
const values = await y.data();
const ms = performance.now() - t0;
const flops = 2 * tokens * (12 * width * width) + 4 * tokens * tokens * width;
console.log(`transformer block: width ${width}, ${heads} heads, ${tokens} tokens -> [${y.shape}] in ${ms.toFixed(1)} ms (${(flops / ms / 1e6).toFixed(2)} GFLOP/s)`);

// The same block on the pure-JS cpu backend must give the same numbers.
const state = Object.fromEntries(await Promise.all(Object.entries(block.stateDict()).map(async ([k, v]) => [k, { shape: v.shape, data: await v.data() }])));
const input = { shape: x.shape, data: await x.data() };
y.dispose();
block.dispose();
x.dispose();
if (info.name !== 'cpu') {
  await useBackend('cpu');
  const ref = new ResidualAttentionBlock(width, heads);
  ref.loadStateDict(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, tf.tensor(v.data, v.shape)])));
  const out = tf.tidy(() => ref.forward(tf.tensor(input.data, input.shape)));
  const expected = await out.data();
  let maxErr = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(expected[i] - values[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  console.log(`max |${info.name} - cpu| = ${maxErr.toExponential(2)} (output scale ${scale.toFixed(2)})`);
  out.dispose();
  ref.dispose();
  if (!(maxErr <= 1e-4 * Math.max(1, scale))) {
    console.error('the backends disagree beyond float32 tolerance');
    process.exit(1);
  }
}
