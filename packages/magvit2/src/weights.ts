/**
 * The one mapping between Open-MAGVIT2 checkpoints and our modules. Key names are the official ones
 * (our module tree mirrors VQModel's: `encoder.*`, `decoder.*`; the LFQ has no keys); conv kernels
 * change layout through core's PyTorch layout helpers.
 *
 * Released checkpoints also hold an EMA copy of every weight under `model_ema.<key without dots>`
 * (LitEma); upstream evaluates with it, so it is the one loaded by default. Discriminator and LPIPS
 * weights (`loss.*`), the EMA bookkeeping, an AR model's `transformer.*`, and the part of the model
 * that was not built (encoder-only / decoder-only loads) are ignored; every other difference is
 * reported in one StateDictError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type LoadWeightsOptions, type Module, type StateDict, toTorchLayout, torchLayouts, type WeightsEntry } from '@vtok/core';

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
const ALL_PARTS = ['encoder', 'decoder'];

/**
 * How the entries of an Open-MAGVIT2 checkpoint map onto `model` (whose built halves are `parts`):
 * the `keyOf` / `describeMissing` pair for core's `loadWeightsInto`. An autoregressive checkpoint keeps
 * the tokenizer under `first_stage_model.`; EMA copies are taken where the file has them and
 * `preferEma` (default true) allows.
 */
export function openMagvit2KeyMap(model: Module, entries: readonly WeightsEntry[], parts: readonly string[], preferEma = true): Required<Pick<LoadWeightsOptions, 'keyOf' | 'describeMissing'>> & { usesEma: boolean } {
  const names = entries.map((e) => e.name);
  const arLayout = !names.some((k) => parts.some((p) => k.startsWith(`${p}.`))) && names.some((k) => k.startsWith(AR_PREFIX));
  const strip = (name: string): string | null => (arLayout ? (name.startsWith(AR_PREFIX) ? name.slice(AR_PREFIX.length) : null) : name);
  const own = new Set(Object.keys(model.stateDict()));
  const byEmaKey = new Map([...own].map((k) => [emaKey(k), k]));
  const stripped = new Set(names.map(strip).filter((n): n is string => n !== null));
  const usesEma = preferEma && [...byEmaKey.keys()].some((k) => stripped.has(k));
  return {
    usesEma,
    keyOf(name) {
      const key = strip(name);
      if (key === null) return null; // other models of an AR checkpoint
      if (key.startsWith(EMA_PREFIX)) return usesEma ? (byEmaKey.get(key) ?? null) : null;
      if (usesEma && own.has(key)) return null; // the raw weight, replaced by its EMA copy
      if (IGNORED_PREFIXES.some((p) => key.startsWith(p))) return null;
      const part = key.split('.')[0];
      if (ALL_PARTS.includes(part) && !parts.includes(part)) return null; // a half we did not build
      return key;
    },
    describeMissing: (key) => (usesEma ? `${key} (EMA copy ${emaKey(key)})` : key),
  };
}

/** The model's weights with official names and PyTorch layouts; new tensors, owned by the caller. */
export function openMagvit2StateDict(model: Module): StateDict {
  const layouts = torchLayouts(model);
  const out: StateDict = {};
  for (const [key, v] of Object.entries(model.stateDict())) {
    const layout = layouts.get(key) ?? 'same';
    out[key] = layout === 'same' ? tf.clone(v) : toTorchLayout(v, layout);
  }
  return out;
}
