/**
 * The forward pass of core's ResidualAttentionBlock (TiTok's pre-LN block, same parameters and maths),
 * arranged around tfjs-wasm's slow kernels: heads are split and merged with rank-4 transposes, which
 * tfjs-wasm runs natively (its rank-5 Transpose is element-by-element JavaScript), and everything stays
 * in [rows, D] matrix products.
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
    // One packed projection, then q, k, v as column blocks (@vtok/backend-wasm slices on the heap).
    const qkv = tf.split(linear(h, attn.inProjWeight, attn.inProjBias), 3, 1);
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
