/**
 * AdamW with decoupled weight decay, step for step as `torch.optim.AdamW` (single-tensor path, amsgrad off,
 * maximize off): for each parameter p with gradient g, at its own step t,
 *
 *   p ← p·(1 − lr·λ)
 *   m ← m + (1 − β1)·(g − m)                   (torch's lerp_)
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * A parameter without a gradient in a step is left alone and its step count does not advance (torch skips
 * parameters whose `.grad` is None). The state (the optimiser's step count and each parameter's step, m and v)
 * exports as named tensors, so a checkpoint can hold it, and imports back exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, Module, StateDictError, ValueError, assertFiniteNumber, type StateDict, type StateDictProblems } from '@vtok/core';
import { gradientsFor, sameShape, trainableNamed, type Gradients, type NamedVariables } from './params';

export interface AdamWOptions {
  /** Learning rate; default 1e-3 (torch's). A schedule sets it per step (`optimizer.lr = schedule(step)` or `step(grads, { lr })`). */
  lr?: number;
  /** (β1, β2); default (0.9, 0.999) (torch's). */
  betas?: readonly [number, number];
  /** Added to the denominator; default 1e-8 (torch's). */
  eps?: number;
  /** Decoupled weight decay λ; default 0.01 (torch's AdamW default). */
  weightDecay?: number;
  /**
   * Parameters for which λ is 0 (torch's second parameter group), by state-dict name; default none.
   * `officialNoWeightDecay` is the rule of the official TiTok/MaskGIT training code.
   */
  noWeightDecay?: (name: string, variable: tf.Variable) => boolean;
}

/**
 * The rule of bytedance/1d-tokenizer's `create_optimizer` (`utils/train_utils.py`): no weight decay for
 * parameters of rank < 2 or whose name contains `ln`, `bias`, `latent_tokens`, `mask_token`, `embedding`,
 * `norm`, `gamma` or `embed` (which also exempts `patch_embed`, `decoder_embed` and the positional embeddings).
 */
export function officialNoWeightDecay(name: string, variable: tf.Variable): boolean {
  return variable.rank < 2 || ['ln', 'bias', 'latent_tokens', 'mask_token', 'embedding', 'norm', 'gamma', 'embed'].some((s) => name.includes(s));
}

/** The AdamW settings of the official recipes (titok-maskgit reference §6; ε is torch's default in each). */
export const OFFICIAL_ADAMW = {
  /** TiTok stage 1 (`configs/training/TiTok/stage1/*.yaml`): lr 1e-4, β (0.9, 0.99), wd 1e-4. */
  titokStage1: { lr: 1e-4, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 1e-4, noWeightDecay: officialNoWeightDecay },
  /** TiTok stage 2 (`configs/training/TiTok/stage2/*.yaml`), generator and discriminator: lr 1e-4, β (0.9, 0.999), wd 1e-4. */
  titokStage2: { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-4, noWeightDecay: officialNoWeightDecay },
  /** MaskGIT generator (`configs/training/generator/maskgit.yaml`): lr 2e-4, β (0.9, 0.96), wd 0.03. */
  maskgit: { lr: 2e-4, betas: [0.9, 0.96], eps: 1e-8, weightDecay: 0.03, noWeightDecay: officialNoWeightDecay },
} as const satisfies Record<string, AdamWOptions>;

interface ParamState {
  step: number;
  expAvg: tf.Tensor;
  expAvgSq: tf.Tensor;
}

const WHO = 'AdamW';

export class AdamW {
  /** The learning rate the next `step` uses unless it is given one. */
  lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** How many times `step` has run. */
  stepCount = 0;
  private readonly params: [string, tf.Variable][];
  private readonly decay: number[];
  private readonly state: (ParamState | undefined)[];

  /** Optimises the trainable parameters of `source` (a Module, taken when constructed) or the given named variables. */
  constructor(source: Module | NamedVariables, options: AdamWOptions = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 1e-2, noWeightDecay } = options;
    assertFiniteNumber(lr, WHO, 'lr', { min: 0, ErrorClass: ConfigError });
    if (!Array.isArray(betas) || betas.length !== 2) throw new ConfigError(`${WHO}: betas must be two numbers [β1, β2], got ${JSON.stringify(betas)}`);
    betas.forEach((b, i) => {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new ConfigError(`${WHO}: betas[${i}] must be in [0, 1), got ${String(b)}`);
    });
    assertFiniteNumber(eps, WHO, 'eps', { min: 0, ErrorClass: ConfigError });
    assertFiniteNumber(weightDecay, WHO, 'weightDecay', { min: 0, ErrorClass: ConfigError });
    this.lr = lr;
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.params = trainableNamed(source, WHO);
    this.decay = this.params.map(([name, v]) => (noWeightDecay?.(name, v) ? 0 : weightDecay));
    this.state = this.params.map(() => undefined);
  }

  /** The parameters being optimised, by state-dict name. */
  get parameterNames(): string[] {
    return this.params.map(([name]) => name);
  }

  /** The weight decay λ applied to the named parameter (0 where `noWeightDecay` exempts it). */
  weightDecayOf(name: string): number {
    const i = this.params.findIndex(([n]) => n === name);
    if (i < 0) throw new ValueError(`${WHO}: "${name}" is not one of the optimised parameters`);
    return this.decay[i];
  }

  /**
   * One update of every parameter that has a gradient in `grads` (keyed by variable name as
   * `tf.variableGrads` returns them, by state-dict name, or a Map from the variable). The caller keeps
   * ownership of the gradients. `options.lr` overrides `this.lr` for this step.
   */
  step(grads: Gradients, options: { lr?: number } = {}): void {
    const lr = options.lr ?? this.lr;
    assertFiniteNumber(lr, `${WHO}.step`, 'lr', { min: 0 });
    const gs = gradientsFor(this.params, grads, `${WHO}.step`);
    const [beta1, beta2] = this.betas;
    this.stepCount += 1;
    gs.forEach((g, i) => {
      if (!g) return;
      const param = this.params[i][1];
      const prev = this.state[i];
      const t = (prev?.step ?? 0) + 1;
      const stepSize = lr / (1 - beta1 ** t);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
      const wd = this.decay[i];
      const next = tf.tidy(() => {
        const m0 = prev?.expAvg ?? tf.zerosLike(param);
        const v0 = prev?.expAvgSq ?? tf.zerosLike(param);
        const p0 = wd !== 0 ? tf.mul(param, tf.scalar(1 - lr * wd)) : (param as tf.Tensor);
        const w = 1 - beta1;
        // torch's lerp_(end, w): self + w·(end − self) for w < 0.5, end − (end − self)·(1 − w) otherwise.
        const m = w < 0.5 ? tf.add(m0, tf.mul(tf.sub(g, m0), tf.scalar(w))) : tf.sub(g, tf.mul(tf.sub(g, m0), tf.scalar(1 - w)));
        const v = tf.add(tf.mul(v0, tf.scalar(beta2)), tf.mul(tf.mul(g, g), tf.scalar(1 - beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(bc2Sqrt)), tf.scalar(this.eps));
        const p = tf.sub(p0, tf.mul(tf.div(m, denom), tf.scalar(stepSize)));
        return { m, v, p };
      });
      param.assign(next.p);
      next.p.dispose();
      if (prev) tf.dispose([prev.expAvg, prev.expAvgSq]);
      this.state[i] = { step: t, expAvg: next.m, expAvgSq: next.v };
    });
  }

  /**
   * The state as named tensors (new copies the caller owns): `step` (int32 scalar, calls of `step`) and,
   * for each parameter that has been updated, `state.<name>.step` (int32 scalar), `state.<name>.exp_avg`
   * and `state.<name>.exp_avg_sq` (torch's names).
   */
  exportState(): StateDict {
    const out: StateDict = { step: tf.scalar(this.stepCount, 'int32') };
    this.params.forEach(([name], i) => {
      const st = this.state[i];
      if (!st) return;
      out[`state.${name}.step`] = tf.scalar(st.step, 'int32');
      out[`state.${name}.exp_avg`] = tf.clone(st.expAvg);
      out[`state.${name}.exp_avg_sq`] = tf.clone(st.expAvgSq);
    });
    return out;
  }

  /**
   * Replaces the state with one from `exportState` (of an optimiser over the same parameter names and
   * shapes). Every unexpected, incomplete or mis-shaped entry is reported in one StateDictError, and nothing
   * changes then. The caller keeps ownership of `dict` (the values are copied). Asynchronous: the step
   * counts are read back with `data()`.
   */
  async importState(dict: StateDict): Promise<void> {
    const who = `${WHO}.importState`;
    if (dict === null || typeof dict !== 'object') throw new ValueError(`${who}: expected named tensors, got ${String(dict)}`);
    const problems: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
    const index = new Map(this.params.map(([name], i) => [name, i]));
    const isTensor = (k: string) => dict[k] instanceof tf.Tensor && !dict[k].isDisposed;
    const named = new Set<string>();
    for (const key of Object.keys(dict)) {
      if (key === 'step') continue;
      const m = /^state\.(.+)\.(step|exp_avg|exp_avg_sq)$/.exec(key);
      if (!m || !index.has(m[1])) problems.unexpected.push(key);
      else named.add(m[1]);
    }
    const scalars: string[] = [];
    if (!isTensor('step')) problems.missing.push('step');
    else scalars.push('step');
    const entries: { i: number; stepKey: string; m: tf.Tensor; v: tf.Tensor }[] = [];
    for (const name of named) {
      const i = index.get(name)!;
      const shape = this.params[i][1].shape;
      const [stepKey, mKey, vKey] = ['step', 'exp_avg', 'exp_avg_sq'].map((s) => `state.${name}.${s}`);
      const missing = [stepKey, mKey, vKey].filter((k) => !isTensor(k));
      if (missing.length) {
        problems.missing.push(...missing);
        continue;
      }
      for (const k of [mKey, vKey]) {
        if (!sameShape(dict[k].shape, shape)) problems.mismatched.push({ name: k, expected: [...shape], got: [...dict[k].shape] });
      }
      scalars.push(stepKey);
      entries.push({ i, stepKey, m: dict[mKey], v: dict[vKey] });
    }
    for (const k of scalars) if (dict[k].rank !== 0) problems.mismatched.push({ name: k, expected: [], got: [...dict[k].shape] });
    if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) throw new StateDictError(problems, `${who}: the optimiser state`);
    for (const e of entries) {
      for (const t of [e.m, e.v]) if (t.dtype !== 'float32') throw new DTypeError(`${who}: the moments of "${this.params[e.i][0]}" must be float32, got ${t.dtype}`);
    }
    const steps = new Map<string, number>();
    for (const k of scalars) {
      const value = (await dict[k].data())[0];
      if (!Number.isInteger(value) || value < 0 || (k !== 'step' && value < 1)) {
        throw new ValueError(`${who}: ${k} must be a${k === 'step' ? ' non-negative' : ' positive'} integer, got ${value}`);
      }
      steps.set(k, value);
    }
    this.dispose();
    for (const e of entries) this.state[e.i] = { step: steps.get(e.stepKey)!, expAvg: tf.clone(e.m), expAvgSq: tf.clone(e.v) };
    this.stepCount = steps.get('step')!;
  }

  /** Frees the moments. The parameters stay (they belong to their module). */
  dispose(): void {
    this.state.forEach((st) => st && tf.dispose([st.expAvg, st.expAvgSq]));
    this.state.fill(undefined);
  }
}
