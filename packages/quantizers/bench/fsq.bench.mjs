// FiniteScalarQuantizer throughput: 8 images × 32×32 positions, levels [8,5,5,5] (1000 codes) and
// [8,8,8,5,5,5] (64000 codes); quantize (ids + codes) and the ids -> codes lookup. perSecond = vectors/s.
import { SeededRandom } from '@vtok/core';
import { FiniteScalarQuantizer } from '@vtok/quantizers';

export default async function ({ tf, info, time, peak, quick }) {
  const batch = 8, side = 32;
  const n = batch * side * side;
  const rng = new SeededRandom(0);
  const slow = info.name === 'cpu';
  const opts = { maxReps: slow || quick ? 3 : undefined };
  const rows = [];
  for (const levels of [[8, 5, 5, 5], [8, 8, 8, 5, 5, 5]]) {
    const q = new FiniteScalarQuantizer({ levels });
    const z = rng.normal([batch, side, side, levels.length]);
    const label = `fsq [${levels}] (${q.codebookSize}) ${batch}x${side}x${side}`;
    const quantize = () => {
      const r = q.quantize(z);
      return [r.quantized, r.indices];
    };
    let t = await time(quantize, opts);
    rows.push({ case: `${label} quantize`, ms: t.ms, reps: t.reps, perSecond: (n * 1000) / t.ms, ...(await peak(quantize)) });
    const { quantized, indices: ids } = q.quantize(z);
    quantized.dispose();
    const lookup = () => q.lookup(ids);
    t = await time(lookup, opts);
    rows.push({ case: `${label} lookup`, ms: t.ms, reps: t.reps, perSecond: (n * 1000) / t.ms, ...(await peak(lookup)) });
    tf.dispose([z, ids]);
  }
  return rows;
}
