// LookupFreeQuantizer at MAGVIT-v2's size: K = 2^18 (18 bits), 8 images × 16×16 latent positions.
// Rows per entropy formula (Open-MAGVIT2: exact per-bit per-sample entropy; lucidrains: the clamped one,
// by sorted halves) — inference; a training call with every loss; a training step's forward + backward.
// Peak memory must stay within 1 GiB (one [N, K] softmax alone would be 2 GiB): checked, a row says so.
import { SeededRandom } from '@vtok/core';
import { LFQ_PRESETS, LookupFreeQuantizer } from '@vtok/quantizers';

const GIB = 2 ** 30;

export default async function ({ tf, info, time, peak, quick }) {
  const bits = 18, batch = 8, side = 16;
  const n = batch * side * side;
  const rng = new SeededRandom(0);
  const z = rng.normal([batch, side, side, bits]);
  const cot = rng.normal([batch, side, side, bits]);
  const slow = info.name === 'cpu';
  const opts = { maxReps: slow || quick ? 3 : undefined };
  const rows = [];
  const outputs = (r) => [r.quantized, r.indices, ...Object.values(r.losses)];
  const row = async (name, run) => {
    const t = await time(run, opts);
    const p = await peak(run);
    if (p.peakBytes >= GIB) throw new Error(`lfq ${name}: peak ${(p.peakBytes / GIB).toFixed(2)} GiB exceeds the 1 GiB budget`);
    rows.push({ case: `lfq K=2^${bits} ${batch}x${side}x${side} ${name}`, ms: t.ms, reps: t.reps, perSecond: (n * 1000) / t.ms, ...p, withinGiB: true });
  };

  for (const [preset, settings] of Object.entries(LFQ_PRESETS)) {
    const q = new LookupFreeQuantizer({ ...settings, dim: bits, commitmentLossWeight: 0.25 });
    await row(`${preset} inference`, () => outputs(q.quantize(z)));
    await row(`${preset} training (all losses)`, () => outputs(q.quantize(z, { training: true })));
    const zVar = tf.variable(tf.clone(z), true);
    await row(`${preset} training forward+backward`, () => {
      const { value, grads } = tf.variableGrads(() => {
        const r = q.quantize(zVar, { training: true });
        return tf.add(r.losses.aux, tf.sum(tf.mul(r.quantized, cot)));
      });
      return [value, ...Object.values(grads)];
    });
    zVar.dispose();
  }
  tf.dispose([z, cot]);
  return rows;
}
