// The kernels a ViT block and a conv decoder spend their time in, at TiTok's sizes (width 768, 257
// tokens, 12 heads), on whatever thread count the backend runs (info.device says; compare with
// VTOK_WASM_THREADS=1). Linear layers are x·Wᵀ with W [out, in], as vtok's Linear calls them.
export default async function ({ tf, info, time, peak, quick }) {
  const rows = [];
  const seeded = (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const tokens = 257, width = 768, heads = 12, head = width / heads;
  const batches = info.name === 'cpu' || quick ? [1] : [1, 8];

  for (const batch of batches) {
    const x = seeded([batch * tokens, width], 1);
    for (const [name, out, inp] of [['qkv', 3 * width, width], ['mlp up', 4 * width, width], ['mlp down', width, 4 * width]]) {
      const xin = inp === width ? x : seeded([batch * tokens, inp], 2);
      const w = seeded([out, inp], 3);
      const run = () => tf.matMul(xin, w, false, true);
      const t = await time(run);
      rows.push({ case: `linear ${name} ${batch * tokens}x${inp}->${out}`, ms: t.ms, reps: t.reps, gflops: (2 * batch * tokens * inp * out) / t.ms / 1e6, ...(await peak(run)) });
      tf.dispose(w);
      if (xin !== x) xin.dispose();
    }
    x.dispose();

    const q = seeded([batch * heads, tokens, head], 4);
    const k = seeded([batch * heads, tokens, head], 5);
    const p = tf.softmax(seeded([batch * heads, tokens, tokens], 6));
    const attnFlops = 2 * batch * heads * tokens * tokens * head;
    for (const [name, run] of [
      ['scores q·kᵀ', () => tf.matMul(q, k, false, true)],
      ['values p·v', () => tf.matMul(p, k)],
    ]) {
      const t = await time(run);
      rows.push({ case: `attention ${name} ${batch}x${heads} heads`, ms: t.ms, reps: t.reps, gflops: attnFlops / t.ms / 1e6, ...(await peak(run)) });
    }
    const t = await time(() => tf.softmax(p));
    rows.push({ case: `softmax ${batch * heads}x${tokens}x${tokens}`, ms: t.ms, reps: t.reps });
    tf.dispose([q, k, p]);
  }

  // The MaskGIT-VQGAN decoder's heaviest convs: 3x3 at 256 channels on 64x64 and 128 on 128x128.
  for (const [c, hw] of quick ? [[128, 32]] : [[256, 64], [128, 128]]) {
    const x = seeded([1, hw, hw, c], 7);
    const w = tf.mul(seeded([3, 3, c, c], 8), 0.05);
    const run = () => tf.conv2d(x, w, 1, 'same');
    const t = await time(run);
    rows.push({ case: `conv3x3 ${c}ch ${hw}x${hw}`, ms: t.ms, reps: t.reps, gflops: (2 * hw * hw * c * c * 9) / t.ms / 1e6, ...(await peak(run)) });
    tf.dispose([x, w]);
  }
  return rows;
}
