/**
 * The one mapping between Open-MAGVIT2 checkpoints and our modules. Key names are the official ones
 * (our module tree mirrors VQModel's: `encoder.*`, `decoder.*`; the LFQ has no keys); only conv kernels
 * change layout: PyTorch [O, I, kh, kw] / [O, I, kt, kh, kw] <-> our HWIO / DHWIO.
 *
 * Released checkpoints also hold an EMA copy of every weight under `model_ema.<key without dots>`
 * (LitEma); upstream evaluates with it, so it is the one loaded by default. Discriminator and LPIPS
 * weights (`loss.*`), the EMA bookkeeping, an AR model's `transformer.*`, and the part of the model
 * that was not built (encoder-only / decoder-only loads) are ignored; every other difference
 * is reported in one StateDictError.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  dhwioToTorchConv3dWeight,
  hwioToTorchConv2dWeight,
  type Module,
  type StateDict,
  StateDictError,
  type StateDictProblems,
  torchConv2dWeightToHWIO,
  torchConv3dWeightToDHWIO,
} from '@vtok/core';

export interface TorchWeightsOptions {
  /** Take `model_ema.*` copies where the checkpoint has them (default true, as upstream evaluates). */
  preferEma?: boolean;
  /** Names the source in error messages. */
  source?: string;
}

/** LitEma's buffer name for a parameter: `model_ema.` + the name with every dot removed. */
export function emaKey(name: string): string {
  return `model_ema.${name.replace(/\./g, '')}`;
}

const EMA_PREFIX = 'model_ema.';
/**
 * Prefixes of entries that a tokenizer checkpoint may hold and that are not its weights: the training
 * loss (discriminator, LPIPS), an AR model's parts, and LFQ buffers (the LFQ has no parameters; any
 * buffer there is a fixed table that we compute).
 */
const IGNORED_PREFIXES = ['loss.', 'transformer.', 'cond_stage_model.', 'quantize.'];
const AR_PREFIX = 'first_stage_model.';

/** Our layout of a PyTorch tensor for a parameter of rank r: conv kernels are transposed. */
function fromTorchLayout(t: tf.Tensor): tf.Tensor {
  if (t.rank === 4) return torchConv2dWeightToHWIO(t);
  if (t.rank === 5) return torchConv3dWeightToDHWIO(t);
  return t;
}

function toTorchLayout(t: tf.Tensor): tf.Tensor {
  if (t.rank === 4) return hwioToTorchConv2dWeight(t);
  if (t.rank === 5) return dhwioToTorchConv3dWeight(t);
  return t;
}

/** The PyTorch shape of one of our parameters. */
function torchShape(shape: readonly number[]): number[] {
  if (shape.length === 4) return [shape[3], shape[2], shape[0], shape[1]];
  if (shape.length === 5) return [shape[4], shape[3], shape[0], shape[1], shape[2]];
  return [...shape];
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Copies a PyTorch state dict (official key names and layouts) into `model`. `parts` names the
 * top-level children that exist in `model` (e.g. ['encoder']); keys of the other parts are ignored.
 * The caller keeps ownership of `dict`. On any problem nothing is assigned.
 */
export function assignOpenMagvit2Weights(
  model: Module,
  dict: StateDict,
  parts: readonly string[],
  options: TorchWeightsOptions = {},
): { usedEma: boolean } {
  const source = options.source ?? 'checkpoint';
  // An autoregressive checkpoint keeps the tokenizer under first_stage_model.
  const names = Object.keys(dict);
  const arLayout = !names.some((k) => parts.some((p) => k.startsWith(`${p}.`))) && names.some((k) => k.startsWith(AR_PREFIX));
  const lookup = (key: string) => dict[arLayout ? `${AR_PREFIX}${key}` : key];
  const own = model.stateDict();
  const expected = Object.keys(own);
  const hasEma = (options.preferEma ?? true) && expected.some((k) => lookup(emaKey(k)) !== undefined);

  const problems: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
  const chosen = new Map<string, tf.Tensor>();
  for (const key of expected) {
    const name = hasEma ? emaKey(key) : key;
    const t = lookup(name);
    if (!t) {
      problems.missing.push(hasEma ? `${key} (EMA copy ${name})` : key);
      continue;
    }
    const want = torchShape(own[key].shape);
    if (!sameShape(t.shape, want)) problems.mismatched.push({ name, expected: want, got: [...t.shape] });
    else chosen.set(key, t);
  }
  const expectedSet = new Set(expected);
  const allParts = ['encoder', 'decoder'];
  for (const raw of names) {
    const key = arLayout ? (raw.startsWith(AR_PREFIX) ? raw.slice(AR_PREFIX.length) : null) : raw;
    if (key === null) continue; // other models of an AR checkpoint (transformer, …)
    if (key.startsWith(EMA_PREFIX) || IGNORED_PREFIXES.some((p) => key.startsWith(p))) continue;
    if (expectedSet.has(key)) continue;
    const part = key.split('.')[0];
    if (allParts.includes(part) && !parts.includes(part)) continue; // a part we did not build
    problems.unexpected.push(raw);
  }
  if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) {
    throw new StateDictError(problems, source);
  }
  for (const [key, t] of chosen) {
    const value = tf.tidy(() => {
      const f = t.dtype === 'float32' ? t : tf.cast(t, 'float32');
      return fromTorchLayout(f);
    });
    (own[key] as tf.Variable).assign(value);
    if (value !== t) value.dispose();
  }
  return { usedEma: hasEma };
}

/** The model's weights with official names and PyTorch layouts; new tensors, owned by the caller. */
export function openMagvit2StateDict(model: Module): StateDict {
  const out: StateDict = {};
  for (const [key, v] of Object.entries(model.stateDict())) out[key] = v.rank >= 4 ? toTorchLayout(v) : tf.clone(v);
  return out;
}
