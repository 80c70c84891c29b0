import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `run` on chunks of at most `size` samples along the batch axis (axis 0) and concatenates the
 * results, so memory grows with the chunk, not with the batch. Each chunk's intermediates are freed
 * before the next starts, and other work (progress UIs, GPU queues) gets a turn between chunks. A batch
 * of at most `size` runs as one call, on `x` itself.
 */
export async function inBatches(x: tf.Tensor, size: number, run: (chunk: tf.Tensor) => tf.Tensor): Promise<tf.Tensor> {
  const batch = x.shape[0];
  if (batch <= size) return run(x);
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < batch; start += size) {
      const chunk = tf.slice(x, start, Math.min(size, batch - start));
      try {
        parts.push(run(chunk));
      } finally {
        chunk.dispose();
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}
