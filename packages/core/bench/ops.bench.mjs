// Core kernels: matmul, one transformer block (width 768, 257 tokens), one 3x3 conv (128 ch, 64x64).
import { ResidualAttentionBlock, SeededRandom } from '@vtok/core';

export default async function ({ tf, info, time, peak, quick }) {
  const rng = new SeededRandom(0);
  const rows = [];
  const slow = info.name === 'cpu';

  // Matmul: square n^3, 2n^3 FLOPs.
  for (const n of slow || quick ? [256, 512] : [512, 1024]) {
    const a = rng.normal([n, n]);
    const b = rng.normal([n, n]);
    const flops = 2 * n ** 3;
    const t = await time(() => tf.matMul(a, b));
    const p = await peak(() => tf.matMul(a, b));
    rows.push({ case: `matmul ${n}x${n}x${n}`, ms: t.ms, reps: t.reps, gflops: flops / t.ms / 1e6, ...p });
    tf.dispose([a, b]);
  }

  // Transformer block as TiTok has it (pre-LN, MHA with 12 heads, MLP ratio 4), batch 1.
  {
    const width = 768, tokens = 257, heads = 12, hidden = 4 * width;
    const block = new ResidualAttentionBlock(width, heads, { rng });
    const x = rng.normal([1, tokens, width]);
    // Linear layers: qkv (3 w^2), out (w^2), mlp (2 w h); attention: 2 matmuls of tokens^2 * width.
    const flops = 2 * tokens * (4 * width * width + 2 * width * hidden) + 2 * 2 * tokens * tokens * width;
    const run = () => tf.tidy(() => block.forward(x));
    const t = await time(run, { maxReps: slow ? 1 : undefined });
    const p = await peak(run);
    rows.push({ case: `transformer block w${width} n${tokens}`, ms: t.ms, reps: t.reps, gflops: flops / t.ms / 1e6, perSecond: 1000 / t.ms, ...p });
    block.dispose();
    x.dispose();
  }

  // 3x3 conv, 128 -> 128 channels on 64x64, same padding.
  {
    const c = 128, hw = 64;
    const x = rng.normal([1, hw, hw, c]);
    const w = rng.normal([3, 3, c, c], 0, 0.05);
    const flops = 2 * hw * hw * c * c * 9;
    const run = () => tf.conv2d(x, w, 1, 'same');
    const t = await time(run, { maxReps: slow ? 1 : undefined });
    const p = await peak(run);
    rows.push({ case: `conv3x3 ${c}ch ${hw}x${hw}`, ms: t.ms, reps: t.reps, gflops: flops / t.ms / 1e6, ...p });
    tf.dispose([x, w]);
  }
  return rows;
}
