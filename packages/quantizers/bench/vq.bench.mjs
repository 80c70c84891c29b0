// VectorQuantizer throughput at TiTok's size: K = 4096 codes of d = 12, l2-normalised, 8 images × 32 tokens.
// Rows: inference; a training call with EMA and dead-code restart (the on-device updates); and a training
// step's forward + backward (gradients of the losses wrt the latents and the codebook, as TiTok stage 1).
import { SeededRandom } from '@vtok/core';
import { VectorQuantizer } from '@vtok/quantizers';

export default async function ({ tf, info, time, peak, quick }) {
  const K = 4096, d = 12, batch = 8, tokens = 32;
  const n = batch * tokens;
  const rng = new SeededRandom(0);
  const z = rng.normal([batch, tokens, d]);
  // The distance matrix product dominates: 2·N·K·d multiply-adds.
  const flops = 2 * n * K * d;
  const slow = info.name === 'cpu';
  const opts = { maxReps: slow || quick ? 3 : undefined };
  const rows = [];
  const outputs = (r) => [r.quantized, r.indices, ...Object.values(r.losses)];
  const row = async (name, q, run) => {
    const t = await time(run, opts);
    const p = await peak(run);
    rows.push({ case: `vq K=${K} d=${d} ${batch}x${tokens} ${name}`, ms: t.ms, reps: t.reps, gflops: flops / t.ms / 1e6, perSecond: (n * 1000) / t.ms, ...p });
  };

  const vq = new VectorQuantizer({ dim: d, codebookSize: K, useL2Norm: true, commitmentCost: 0.25, seed: 1 });
  await row('inference', vq, () => outputs(vq.quantize(z)));

  const ema = new VectorQuantizer({ dim: d, codebookSize: K, useL2Norm: true, ema: true, deadCodeRestart: true, seed: 1 });
  await row('training (EMA + dead-code restart)', ema, () => outputs(ema.quantize(z, { training: true })));

  const cot = rng.normal([batch, tokens, d]);
  const zVar = tf.variable(tf.clone(z), true);
  await row('training forward+backward', vq, () => {
    const { value, grads } = tf.variableGrads(() => {
      const r = vq.quantize(zVar, { training: true });
      return tf.add(r.losses.total, tf.sum(tf.mul(r.quantized, cot)));
    });
    return [value, ...Object.values(grads)];
  });

  tf.dispose([z, cot, zVar]);
  vq.dispose();
  ema.dispose();
  return rows;
}
