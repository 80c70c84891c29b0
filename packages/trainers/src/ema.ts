/**
 * Exponential moving average of a module's weights, as bytedance/1d-tokenizer's `EMAModel`
 * (`modeling/modules/ema_model.py`, after open-muse and diffusers), which the official TiTok and MaskGIT
 * recipes build with `decay = 0.999` and its other defaults. Update k (1-based) uses
 *
 *   s = k − updateAfterStep − 1;  d = 0 if s ≤ 0, else clamp(w(s), minDecay, decay)
 *   shadow ← shadow − (1 − d)·(shadow − param)
 *
 * with the warm-up w(s) = (1 + s)/(10 + s) (`warmup: 'official'`, the default), 1 − (1 + s/invGamma)^−power
 * (`'power'`, the official `use_ema_warmup`), or no warm-up at all (`'none'`: d = decay from the first
 * update, as Open-MAGVIT2's LitEma with `use_num_updates=False`). So with the default the first update
 * copies the weights. Parameters that are not trainable are copied, not averaged (as the official code does
 * for parameters without `requires_grad`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DTypeError, Module, StateDictError, ValueError, assertFiniteNumber, assertNonNegativeInt, assertPositiveInt, type StateDict, type StateDictProblems } from '@vtok/core';
import { sameShape } from './params';

export interface EMAOptions {
  /** The largest decay; default 0.999 (what the official TiTok/MaskGIT training code passes). */
  decay?: number;
  /** The smallest decay after the first updates; default 0 (the official default). */
  minDecay?: number;
  /** Updates before averaging starts (the shadow copies the weights until then); default 0 (official). */
  updateAfterStep?: number;
  /** Average on every n-th `update` only; default 1 (official). */
  updateEvery?: number;
  /** The decay warm-up; default 'official' ((1 + s)/(10 + s)); see the module note. */
  warmup?: 'official' | 'power' | 'none';
  /** For `warmup: 'power'`: default 1 (official). */
  invGamma?: number;
  /** For `warmup: 'power'`: default 2/3 (official). */
  power?: number;
}

const WHO = 'EMA';

export class EMA {
  readonly decay: number;
  readonly minDecay: number;
  readonly updateAfterStep: number;
  readonly updateEvery: number;
  readonly warmup: 'official' | 'power' | 'none';
  readonly invGamma: number;
  readonly power: number;
  /** How many times `update` has been called (the official `optimization_step`). */
  updates = 0;
  /** The decay of the last averaging update (undefined before the first). */
  lastDecay: number | undefined;
  private readonly params: [string, tf.Variable][];
  private shadow: tf.Tensor[];
  private stored: tf.Tensor[] | undefined;

  /** Tracks every parameter of `module` (buffers are not averaged, as in the official code); the shadow starts as a copy. */
  constructor(module: Module, options: EMAOptions = {}) {
    if (!(module instanceof Module)) throw new ValueError(`${WHO}: expected a Module, got ${module === null ? 'null' : typeof module}`);
    const { decay = 0.999, minDecay = 0, updateAfterStep = 0, updateEvery = 1, warmup = 'official', invGamma = 1, power = 2 / 3 } = options;
    for (const [what, v] of [['decay', decay], ['minDecay', minDecay]] as const) {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ConfigError(`${WHO}: ${what} must be in [0, 1], got ${String(v)}`);
    }
    if (minDecay > decay) throw new ConfigError(`${WHO}: minDecay (${minDecay}) must not exceed decay (${decay})`);
    assertNonNegativeInt(updateAfterStep, WHO, 'updateAfterStep', ConfigError);
    assertPositiveInt(updateEvery, WHO, 'updateEvery', ConfigError);
    if (!['official', 'power', 'none'].includes(warmup)) throw new ConfigError(`${WHO}: warmup must be 'official', 'power' or 'none', got ${String(warmup)}`);
    assertFiniteNumber(invGamma, WHO, 'invGamma', { min: 0, exclusive: true, ErrorClass: ConfigError });
    assertFiniteNumber(power, WHO, 'power', { min: 0, exclusive: true, ErrorClass: ConfigError });
    this.decay = decay;
    this.minDecay = minDecay;
    this.updateAfterStep = updateAfterStep;
    this.updateEvery = updateEvery;
    this.warmup = warmup;
    this.invGamma = invGamma;
    this.power = power;
    this.params = [...module.namedParameters()];
    this.shadow = this.params.map(([, v]) => tf.clone(v));
  }

  /** The decay that update number `k` (1-based) uses. */
  decayAt(k: number): number {
    if (this.warmup === 'none') return this.decay;
    const s = Math.max(0, k - this.updateAfterStep - 1);
    if (s <= 0) return 0;
    const w = this.warmup === 'official' ? (1 + s) / (10 + s) : 1 - (1 + s / this.invGamma) ** -this.power;
    return Math.max(Math.min(w, this.decay), this.minDecay);
  }

  /** One EMA step after an optimiser step. */
  update(): void {
    if (this.stored) throw new ValueError(`${WHO}.update: the EMA weights are applied; call restore() first`);
    this.updates += 1;
    if ((this.updates - 1) % this.updateEvery !== 0) return;
    const d = this.decayAt(this.updates);
    this.lastDecay = d;
    this.params.forEach(([, v], i) => {
      const old = this.shadow[i];
      this.shadow[i] = v.trainable ? tf.tidy(() => tf.sub(old, tf.mul(tf.sub(old, v), tf.scalar(1 - d)))) : tf.clone(v);
      old.dispose();
    });
  }

  /** Swaps the EMA weights into the module (for evaluation); `restore()` puts the trained weights back. */
  apply(): void {
    if (this.stored) throw new ValueError(`${WHO}.apply: the EMA weights are already applied`);
    this.stored = this.params.map(([, v]) => tf.clone(v));
    this.params.forEach(([, v], i) => v.assign(this.shadow[i]));
  }

  /** Puts back the weights that `apply()` replaced. */
  restore(): void {
    if (!this.stored) throw new ValueError(`${WHO}.restore: nothing to restore; call apply() first`);
    const stored = this.stored;
    this.params.forEach(([, v], i) => v.assign(stored[i]));
    tf.dispose(stored);
    this.stored = undefined;
  }

  /** Copies the EMA weights into the module for good (the official recipes keep the EMA copy as the final model). */
  copyTo(): void {
    if (this.stored) throw new ValueError(`${WHO}.copyTo: the EMA weights are applied; call restore() first`);
    this.params.forEach(([, v], i) => v.assign(this.shadow[i]));
  }

  /** The EMA weights by state-dict name (new copies the caller owns), e.g. to save them as a model. */
  weights(): StateDict {
    const out: StateDict = {};
    this.params.forEach(([name], i) => (out[name] = tf.clone(this.shadow[i])));
    return out;
  }

  /** The state as named tensors (new copies): `updates` (int32 scalar) and `shadow.<name>` for each parameter. */
  exportState(): StateDict {
    const out: StateDict = { updates: tf.scalar(this.updates, 'int32') };
    this.params.forEach(([name], i) => (out[`shadow.${name}`] = tf.clone(this.shadow[i])));
    return out;
  }

  /** Replaces the state with one from `exportState`; every problem is reported in one StateDictError and nothing changes then. The caller keeps `dict`. */
  async importState(dict: StateDict): Promise<void> {
    const who = `${WHO}.importState`;
    if (dict === null || typeof dict !== 'object') throw new ValueError(`${who}: expected named tensors, got ${String(dict)}`);
    const problems: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
    const expected = new Map<string, tf.Variable>(this.params.map(([name, v]) => [`shadow.${name}`, v]));
    for (const key of Object.keys(dict)) if (key !== 'updates' && !expected.has(key)) problems.unexpected.push(key);
    for (const [key, v] of expected) {
      const t = dict[key];
      if (!(t instanceof tf.Tensor) || t.isDisposed) problems.missing.push(key);
      else if (!sameShape(t.shape, v.shape)) problems.mismatched.push({ name: key, expected: [...v.shape], got: [...t.shape] });
    }
    const u = dict.updates;
    if (!(u instanceof tf.Tensor) || u.isDisposed) problems.missing.push('updates');
    else if (u.rank !== 0) problems.mismatched.push({ name: 'updates', expected: [], got: [...u.shape] });
    if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) throw new StateDictError(problems, `${who}: the EMA state`);
    for (const key of expected.keys()) if (dict[key].dtype !== 'float32') throw new DTypeError(`${who}: ${key} must be float32, got ${dict[key].dtype}`);
    const updates = (await u.data())[0];
    if (!Number.isInteger(updates) || updates < 0) throw new ValueError(`${who}: updates must be a non-negative integer, got ${updates}`);
    tf.dispose(this.shadow);
    this.shadow = [...expected.keys()].map((key) => tf.clone(dict[key]));
    this.updates = updates;
  }

  /** Frees the shadow weights (and the stored ones, if applied; the module keeps its current values). */
  dispose(): void {
    tf.dispose(this.shadow);
    this.shadow = [];
    if (this.stored) tf.dispose(this.stored);
    this.stored = undefined;
  }
}
