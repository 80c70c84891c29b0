/**
 * Finding the model's state dict inside a checkpoint's data and choosing its EMA weights. Checkpoints
 * come as a bare state dict (`pytorch_model.bin`), a Lightning checkpoint (`state_dict`), or a training
 * dict (`model`, `model_state_dict`, ...). EMA copies come in two layouts:
 * - LitEma (taming / latent-diffusion / Open-MAGVIT2): inside the state dict, `model_ema.<key with the
 *   dots removed>` next to each model key, plus the counters `model_ema.num_updates` / `model_ema.decay`;
 * - a separate dict beside the model's (`state_dict_ema`, `model_ema`, `ema`: timm, DeiT).
 */
import { TorchCheckpointError } from '../errors';
import { isPickleDict, type PickleDict, type PickleValue } from './pickle';
import { quote, setOwn } from '../safetensors/header';
import { describeValue, TorchTensor } from './tensor';

export interface SelectTorchStateDictOptions {
  /** Use the EMA weights where the checkpoint has them. Default true. */
  preferEma?: boolean;
  /**
   * Where the state dict is: a top-level key (`'state_dict'`) or a path of keys (`['ema', 'model']`).
   * Default: the first of `state_dict`, `model_state_dict`, `model`, `module`, `net` that holds tensors,
   * else the top level.
   */
  key?: string | string[];
}

/** What `selectTorchStateDict` found. */
export interface TorchStateDictSelection {
  /** The model's tensors by name (EMA values substituted where chosen), in the file's order. */
  tensors: Record<string, TorchTensor>;
  /** The path of keys leading to the state dict ([] = the top level). */
  path: string[];
  /** How many tensors were taken from EMA copies (0 when none were used). */
  emaTensors: number;
  /** Where the EMA weights came from: 'model_ema.*' keys, a sibling dict's key, or null. */
  emaSource: string | null;
  /** Entries of the state dict that are not tensors or are EMA bookkeeping, skipped. */
  skipped: string[];
}

const CONTAINER_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net'];
const EMA_DICT_KEYS = ['state_dict_ema', 'model_ema', 'ema'];
const LIT_EMA_PREFIX = 'model_ema.';
const LIT_EMA_COUNTERS = new Set(['model_ema.num_updates', 'model_ema.decay']);

function hasTensors(value: PickleValue | undefined): value is PickleDict {
  return isPickleDict(value) && Object.values(value).some((v) => v instanceof TorchTensor);
}

function locate(root: PickleValue, key: string | string[] | undefined): { dict: PickleDict; path: string[] } {
  if (!isPickleDict(root)) {
    throw new TorchCheckpointError(`the checkpoint holds ${describeValue(root)}, not a dict; there is no state dict to take`);
  }
  if (key !== undefined) {
    const path = Array.isArray(key) ? key : [key];
    let at: PickleValue = root;
    for (let i = 0; i < path.length; i++) {
      if (!isPickleDict(at) || !Object.prototype.hasOwnProperty.call(at, path[i])) {
        const keys = isPickleDict(at) ? Object.keys(at).slice(0, 20).map(quote).join(', ') : describeValue(at);
        throw new TorchCheckpointError(`the checkpoint has no ${quote(path.slice(0, i + 1).join('/'))} (keys there: ${keys})`);
      }
      at = at[path[i]];
    }
    if (!isPickleDict(at)) throw new TorchCheckpointError(`${quote(path.join('/'))} holds ${describeValue(at)}, not a state dict`);
    return { dict: at, path };
  }
  for (const k of CONTAINER_KEYS) {
    if (Object.prototype.hasOwnProperty.call(root, k) && hasTensors(root[k])) return { dict: root[k] as PickleDict, path: [k] };
  }
  if (hasTensors(root)) return { dict: root, path: [] };
  const keys = Object.keys(root).slice(0, 20).map(quote).join(', ');
  throw new TorchCheckpointError(`no state dict found: neither the top level nor ${CONTAINER_KEYS.join(', ')} holds tensors (top-level keys: ${keys}); pass { key }`);
}

/** The LitEma layout: `model_ema.<dotless key>` entries override the model keys they stand for. */
function applyLitEma(dict: PickleDict, tensors: Record<string, TorchTensor>, skipped: string[]): number {
  const byDotless = new Map<string, string | null>(); // null: two model keys share the dotless name
  for (const name of Object.keys(tensors)) {
    const dotless = name.replace(/\./g, '');
    byDotless.set(dotless, byDotless.has(dotless) ? null : name);
  }
  let used = 0;
  for (const [name, value] of Object.entries(dict)) {
    if (!name.startsWith(LIT_EMA_PREFIX) || LIT_EMA_COUNTERS.has(name) || !(value instanceof TorchTensor)) continue;
    const target = byDotless.get(name.slice(LIT_EMA_PREFIX.length));
    if (target === null) {
      throw new TorchCheckpointError(`EMA entry ${quote(name)} matches more than one model key once dots are removed; pass { preferEma: false }`);
    }
    if (target === undefined) {
      skipped.push(name);
      continue;
    }
    setOwn(tensors, target, value);
    used++;
  }
  return used;
}

/**
 * Finds the model's state dict in the data `readTorchCheckpoint` returned and returns its tensors, with
 * EMA weights substituted where the file has them (unless `preferEma: false`). EMA copies and their
 * counters never appear as keys of their own.
 */
export function selectTorchStateDict(root: PickleValue, options: SelectTorchStateDictOptions = {}): TorchStateDictSelection {
  const preferEma = options.preferEma ?? true;
  const { dict, path } = locate(root, options.key);
  const tensors: Record<string, TorchTensor> = {};
  const skipped: string[] = [];
  let hasLitEma = false;
  for (const [name, value] of Object.entries(dict)) {
    if (name.startsWith(LIT_EMA_PREFIX)) {
      hasLitEma = true;
      if (LIT_EMA_COUNTERS.has(name) || !preferEma) skipped.push(name);
      continue;
    }
    if (value instanceof TorchTensor) setOwn(tensors, name, value);
    else skipped.push(name);
  }
  let emaTensors = 0;
  let emaSource: string | null = null;
  if (preferEma && hasLitEma) {
    emaTensors = applyLitEma(dict, tensors, skipped);
    if (emaTensors > 0) emaSource = LIT_EMA_PREFIX.replace(/\.$/, '.*');
  }
  if (preferEma && emaTensors === 0 && options.key === undefined && isPickleDict(root)) {
    // A separate EMA dict beside the model's: its tensors replace the model's of the same name.
    for (const k of EMA_DICT_KEYS) {
      const ema = root[k];
      if (k === path[0] || !hasTensors(ema)) continue;
      for (const [name, value] of Object.entries(ema)) {
        if (value instanceof TorchTensor && Object.prototype.hasOwnProperty.call(tensors, name)) {
          setOwn(tensors, name, value);
          emaTensors++;
        }
      }
      if (emaTensors > 0) {
        emaSource = k;
        break;
      }
    }
  }
  return { tensors, path, emaTensors, emaSource, skipped };
}
