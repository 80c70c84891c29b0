// Test models and float64 references shared by the trainers tests.
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '@vtok/core';
import { normals } from '@vtok/test-utils';

/** A layer norm-like child: `ln.weight` [4], `ln.bias` [4]. */
class Norm extends Module {
  constructor(seed: number) {
    super();
    this.addParameter('weight', tf.tensor1d(Float32Array.from(normals(4, seed, 0.5), (v) => 1 + v)));
    this.addParameter('bias', tf.tensor1d(Float32Array.from(normals(4, seed + 1, 0.1))));
  }
}

/**
 * `proj.weight` [3, 4], `proj.bias` [3], `ln.weight` [4], `ln.bias` [4], `latent_tokens` [2, 4] and a frozen
 * `frozen` [2] (not trainable), all seeded.
 */
export class TinyModel extends Module {
  constructor(seed = 1) {
    super();
    const proj = new (class extends Module {
      constructor() {
        super();
        this.addParameter('weight', tf.tensor2d(Float32Array.from(normals(12, seed + 10)), [3, 4]));
        this.addParameter('bias', tf.tensor1d(Float32Array.from(normals(3, seed + 11, 0.1))));
      }
    })();
    this.addModule('proj', proj);
    this.addModule('ln', new Norm(seed + 20));
    this.addParameter('latent_tokens', tf.tensor2d(Float32Array.from(normals(8, seed + 30)), [2, 4]));
    this.addParameter('frozen', tf.tensor1d([0.25, -0.5]), false);
  }

  /** A scalar loss of the parameters and an input row x [4]: Σ tanh(W·(ln(x)) + b)² + Σ latent². */
  loss(x: tf.Tensor1D): tf.Scalar {
    const p = this.stateDict();
    return tf.tidy(() => {
      const h = tf.add(tf.mul(x, p['ln.weight']), p['ln.bias']);
      const y = tf.add(tf.squeeze(tf.matMul(p['proj.weight'], tf.reshape(h, [4, 1]))), p['proj.bias']);
      return tf.add(tf.sum(tf.square(tf.tanh(y))), tf.mul(tf.sum(tf.square(p['latent_tokens'])), tf.scalar(0.1))) as tf.Scalar;
    });
  }
}

/** Float64 copies of a module's trainable parameters by state-dict name. */
export async function snapshot(module: Module): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const [name, v] of module.namedParameters()) out[name] = Float64Array.from(await v.data());
  return out;
}

/** torch.optim.AdamW (single tensor, amsgrad off) in float64, one parameter. */
export class AdamW64 {
  m: Float64Array;
  v: Float64Array;
  t = 0;
  constructor(
    public p: Float64Array,
    public opts: { betas: [number, number]; eps: number; weightDecay: number },
  ) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }
  step(g: ArrayLike<number>, lr: number): void {
    const [b1, b2] = this.opts.betas;
    this.t += 1;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i] *= 1 - lr * this.opts.weightDecay;
      this.m[i] = b1 * this.m[i] + (1 - b1) * g[i];
      this.v[i] = b2 * this.v[i] + (1 - b2) * g[i] * g[i];
      const denom = Math.sqrt(this.v[i]) / Math.sqrt(bc2) + this.opts.eps;
      this.p[i] -= (lr / bc1) * (this.m[i] / denom);
    }
  }
}
