/**
 * The forward pass of core's ResidualAttentionBlock (TiTok's pre-LN block, same parameters and maths),
 * arranged around tfjs-wasm's slow kernels. tfjs-wasm runs SplitV, Slice and rank-5 Transpose element by
 * element in JavaScript; profiled on TiTok-S-128 at batch 8, splitting q, k and v out of the packed
 * projection (SplitV over [B·N, 3D]) took a fifth of the encoder. When the activations are larger than
 * the weights (B·N > D) this splits `in_proj_weight` into its q, k and v row blocks instead and projects
 * with each (a copy of the weight per call, independent of the batch). Head splitting and merging are
 * rank-4 transposes, which tfjs-wasm runs natively.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gelu, layerNorm, type ResidualAttentionBlock } from '@vtok/core';

/** x·Wᵀ + b over the last axis of a [rows, in] matrix. */
function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  const y = tf.matMul(x, weight, false, true);
  return bias ? tf.add(y, bias) : y;
}

/** x [B, N, D] → block(x), as ResidualAttentionBlock.forward without a mask. */
export function residualAttentionBlock(block: ResidualAttentionBlock, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [b, n, d] = x.shape as [number, number, number];
    const { attn } = block;
    const heads = attn.numHeads;
    const hd = attn.headDim;
    const rows = tf.reshape(x, [b * n, d]);

    const h = layerNorm(rows, block.ln1.weight, block.ln1.bias, block.ln1.eps);
    let qkv: tf.Tensor[];
    if (b * n > d) {
      // One split of the [3D, D] weight (its cost does not grow with the batch) instead of one of the
      // [B·N, 3D] activations: at L-32, batch 8, 46 ms against 242 ms of CPU per block.
      const ws = tf.split(attn.inProjWeight, 3, 0);
      const bs = attn.inProjBias ? tf.split(attn.inProjBias, 3, 0) : [undefined, undefined, undefined];
      qkv = ws.map((w, i) => linear(h, w, bs[i]));
    } else qkv = tf.split(linear(h, attn.inProjWeight, attn.inProjBias), 3, 1);
    const [q, k, v] = qkv.map((t) => tf.reshape(tf.transpose(tf.reshape(t, [b, n, heads, hd]), [0, 2, 1, 3]), [b * heads, n, hd]));
    const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(hd)), k, false, true);
    const mixed = tf.matMul(tf.softmax(scores), v); // [B·H, N, hd]
    const merged = tf.reshape(tf.transpose(tf.reshape(mixed, [b, heads, n, hd]), [0, 2, 1, 3]), [b * n, d]);
    let y = tf.add(rows, linear(merged, attn.outProj.weight, attn.outProj.bias));

    if (block.ln2 && block.mlp) {
      const m = layerNorm(y, block.ln2.weight, block.ln2.bias, block.ln2.eps);
      const hidden = gelu(linear(m, block.mlp.fc.weight, block.mlp.fc.bias));
      y = tf.add(y, linear(hidden, block.mlp.proj.weight, block.mlp.proj.bias));
    }
    return tf.reshape(y, [b, n, d]);
  });
}
