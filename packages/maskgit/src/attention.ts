/**
 * Multi-head attention over already projected q, k, v, with optional dropout on the attention
 * probabilities (the BERT generator trains with it). Heads are contiguous slices of the width, as both
 * official generators split them; (batch, head) fold into one axis so every op stays at rank <= 4
 * (tfjs-webgpu mis-compiles broadcasting at rank 5).
 */
import * as tf from '@tensorflow/tfjs-core';

/** [B, N, H] → [B·heads, N, H/heads]. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, n, h] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [b, n, heads, h / heads]), [0, 2, 1, 3]), [b * heads, n, h / heads]);
}

/** [B·heads, N, D] → [B, N, heads·D]. */
function mergeHeads(x: tf.Tensor, batch: number, heads: number): tf.Tensor {
  const [, n, d] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [batch, heads, n, d]), [0, 2, 1, 3]), [batch, n, heads * d]);
}

/** softmax(q·kᵀ/√d)·v per head for q, k, v of shape [B, N, H]; scale 1/√(H/heads) as both generators use. */
export function multiHeadAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, dropout = 0): tf.Tensor {
  return tf.tidy(() => {
    const batch = q.shape[0];
    const d = (q.shape as number[])[2] / heads;
    const qh = splitHeads(q, heads);
    const kh = splitHeads(k, heads);
    const vh = splitHeads(v, heads);
    const scores = tf.matMul(tf.mul(qh, 1 / Math.sqrt(d)), kh, false, true);
    let probs = tf.softmax(scores);
    if (dropout > 0) probs = tf.dropout(probs, dropout);
    return mergeHeads(tf.matMul(probs, vh), batch, heads);
  });
}
