/**
 * The allow-list: the only Python globals a checkpoint's pickle may name, and what "calling" each one
 * means here. Each is re-implemented as plain data building (a dict, a set, a tensor view); no Python
 * name is ever looked up or run. Any other global is refused with a PickleSecurityError, or, when the
 * caller opts in with `unknownGlobals: 'opaque'`, read as an inert PickledObject.
 */
import { PickleSecurityError, TorchCheckpointError } from '../errors';
import { isPickleDict, PickledObject, PickleGlobal, type PickleHooks, type PickleValue } from './pickle';
import { describeValue, STORAGE_DTYPES, TORCH_DTYPES, TorchStorage, TorchTensor, viewTensor, type PendingTensor, type TorchDtype } from './tensor';

/** A storage class named in a persistent id (`torch.FloatStorage`); `dtype` is undefined when unsupported. */
export class StorageTypeGlobal extends PickleGlobal {
  readonly dtype: TorchDtype | undefined;
  constructor(module: string, name: string) {
    super(module, name);
    this.dtype = Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name) ? STORAGE_DTYPES[name] : undefined;
  }
}

/** A class outside the allow-list, read under `unknownGlobals: 'opaque'`: calling it records the call. */
class OpaqueGlobal extends PickleGlobal {}

/** The functions and classes a torch.save pickle may name, as "module.name". */
export const TORCH_PICKLE_ALLOWED_GLOBALS: readonly string[] = [
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch._tensor._rebuild_from_type',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
  'torch.Size',
  'torch.device',
  'collections.OrderedDict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytes',
  'builtins.bytearray',
  '_codecs.encode',
];
const ALLOWED = new Set(TORCH_PICKLE_ALLOWED_GLOBALS);

/** torch dtype objects (`torch.float32`), read as the strings "torch.float32". */
const TORCH_DTYPE_NAMES = new Set([
  'float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int', 'int16',
  'short', 'int8', 'uint8', 'bool', 'complex64', 'cfloat', 'complex128', 'cdouble', 'uint16', 'uint32', 'uint64',
  'float8_e4m3fn', 'float8_e5m2',
]);

/** The TorchDtype of a torch dtype object read as "torch.<name>". */
const DTYPE_OBJECTS: Record<string, TorchDtype> = {
  'torch.float32': 'float32', 'torch.float': 'float32', 'torch.float64': 'float64', 'torch.double': 'float64',
  'torch.float16': 'float16', 'torch.half': 'float16', 'torch.bfloat16': 'bfloat16', 'torch.int64': 'int64',
  'torch.long': 'int64', 'torch.int32': 'int32', 'torch.int': 'int32', 'torch.int16': 'int16', 'torch.short': 'int16',
  'torch.int8': 'int8', 'torch.uint8': 'uint8', 'torch.bool': 'bool',
};

/**
 * _rebuild_tensor_v3 (torch writes it for dtypes without a legacy storage class): the storage is untyped
 * bytes and the dtype comes as an argument. Reinterprets the bytes as that dtype, then views as v2 does.
 */
function rebuildTensorV3(context: TorchHookContext, args: PickleValue[]): TorchTensor {
  const fn = 'torch._utils._rebuild_tensor_v3';
  if (args.length < 7 || args.length > 8) fail(`${fn} takes 7 to 8 arguments, got ${args.length}`);
  const [storage, offset, size, stride, , , dtypeName] = args;
  if (!(storage instanceof TorchStorage)) fail(`${fn} needs a storage from a persistent id, got ${describeValue(storage)}`);
  const dtype = typeof dtypeName === 'string' ? DTYPE_OBJECTS[dtypeName] : undefined;
  if (!dtype) fail(`tensors of dtype ${describeValue(dtypeName)} are not supported (supported: ${[...new Set(Object.values(DTYPE_OBJECTS))].join(', ')})`);
  let typed = storage;
  if (storage.dtype !== dtype) {
    if (storage.dtype !== 'uint8' || !storage.bytes) fail(`${fn}: a ${storage.dtype} storage cannot hold ${dtype} values`);
    const elementBytes = TORCH_DTYPES[dtype].bytes;
    typed = new TorchStorage(dtype, storage.key, storage.location, Math.floor(storage.numel / elementBytes), storage.bytes);
  }
  const pending = viewTensor(typed, offset, size, stride, `tensor #${context.pending.length}`);
  context.pending.push(pending);
  return pending.tensor;
}

/** Python 2 names that protocol 2 writes for Python 3 modules, and torch's own renamed module. */
const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg', 'torch.tensor': 'torch._tensor' };

export interface TorchHookContext {
  /** Names the pickle in messages. */
  where: string;
  unknownGlobals: 'refuse' | 'opaque';
  /** Format-specific: turns a persistent id into a TorchStorage. */
  persistentLoad(pid: PickleValue): PickleValue;
  /** Every tensor view made, to be filled once the storages' bytes are known. */
  pending: PendingTensor[];
}

function fail(message: string): never {
  throw new TorchCheckpointError(message);
}

function rebuildTensor(context: TorchHookContext, args: PickleValue[], min: number, max: number, fn: string): TorchTensor {
  if (args.length < min || args.length > max) fail(`${fn} takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) fail(`${fn} needs a storage from a persistent id, got ${describeValue(storage)}`);
  const pending = viewTensor(storage, offset, size, stride, `tensor #${context.pending.length}`);
  context.pending.push(pending);
  return pending.tensor;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 255) fail(`_codecs.encode: character U+${c.toString(16)} does not fit in latin-1`);
    out[i] = c;
  }
  return out;
}

function encodeText(args: PickleValue[]): Uint8Array {
  const [text, encoding = 'utf-8'] = args;
  if (typeof text !== 'string' || typeof encoding !== 'string' || args.length > 2) fail('_codecs.encode needs (str, encoding)');
  const e = (encoding as string).toLowerCase().replace(/_/g, '-');
  if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1') return latin1Bytes(text as string);
  if (e === 'utf-8' || e === 'utf8' || e === 'ascii') return new TextEncoder().encode(text as string);
  return fail(`_codecs.encode: encoding "${encoding}" is not supported`);
}

function makeBytes(args: PickleValue[], fn: string): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const [source] = args;
  if (source instanceof Uint8Array && args.length === 1) return source.slice();
  if (typeof source === 'string') return encodeText(args);
  if (Array.isArray(source) && args.length === 1 && source.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < 256)) {
    return Uint8Array.from(source as number[]);
  }
  return fail(`${fn} cannot be made from ${describeValue(source)}`);
}

function makeSet(args: PickleValue[], fn: string): Set<PickleValue> {
  if (args.length === 0) return new Set();
  const [items] = args;
  if (args.length === 1 && (Array.isArray(items) || items instanceof Set)) return new Set(items);
  return fail(`${fn} cannot be made from ${describeValue(items)}`);
}

function makeOrderedDict(args: PickleValue[]): PickleValue {
  const dict = Object.create(null) as Record<string, PickleValue>;
  if (args.length === 0) return dict;
  const [items] = args;
  if (args.length === 1 && Array.isArray(items)) {
    for (const pair of items) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') fail('OrderedDict items must be (str, value) pairs');
      dict[pair[0] as string] = pair[1];
    }
    return dict;
  }
  return fail(`OrderedDict cannot be made from ${describeValue(items)}`);
}

function makeDevice(args: PickleValue[]): string {
  const [type, index] = args;
  if (typeof type !== 'string' || args.length > 2 || (index !== undefined && index !== null && typeof index !== 'number')) {
    fail('torch.device needs (type[, index])');
  }
  return index === undefined || index === null ? (type as string) : `${type}:${index}`;
}

const TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);

/** The pickle hooks for one torch checkpoint pickle. */
export function torchPickleHooks(context: TorchHookContext): PickleHooks {
  const hooks: PickleHooks = {
    findGlobal(moduleName, name) {
      const module = MODULE_ALIASES[moduleName] ?? moduleName;
      const full = `${module}.${name}`;
      if ((module === 'torch' || module === 'torch.cuda') && /^[A-Za-z0-9_]+Storage$/.test(name)) return new StorageTypeGlobal(module, name);
      if (ALLOWED.has(full)) return new PickleGlobal(module, name);
      if (module === 'torch' && TORCH_DTYPE_NAMES.has(name)) return full;
      if (context.unknownGlobals === 'opaque') return new OpaqueGlobal(module, name);
      throw new PickleSecurityError(moduleName, name, context.where);
    },

    call(callable, args, isNew) {
      if (callable instanceof OpaqueGlobal) return new PickledObject(callable.module, callable.name, args);
      if (!(callable instanceof PickleGlobal) || callable instanceof StorageTypeGlobal) {
        return fail(`${describeValue(callable)} cannot be called; only the allow-listed rebuild functions can`);
      }
      const fn = callable.toString();
      if (isNew && fn !== 'collections.OrderedDict' && fn !== 'builtins.set' && fn !== 'builtins.frozenset') {
        fail(`${fn} cannot be instantiated with NEWOBJ here`);
      }
      switch (fn) {
        case 'torch._utils._rebuild_tensor_v2':
          return rebuildTensor(context, args, 6, 7, fn);
        case 'torch._utils._rebuild_tensor':
          return rebuildTensor(context, args, 4, 4, fn);
        case 'torch._utils._rebuild_tensor_v3':
          return rebuildTensorV3(context, args);
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state': {
          const [data] = args;
          const arity = fn.endsWith('state') ? 4 : 3;
          if (args.length !== arity || !(data instanceof TorchTensor)) fail(`${fn} needs ${arity} arguments starting with a tensor`);
          return data;
        }
        case 'torch._tensor._rebuild_from_type_v2':
        case 'torch._tensor._rebuild_from_type': {
          const [inner, type, innerArgs] = args;
          if (args.length !== 4 || !Array.isArray(innerArgs)) fail(`${fn} needs (function, type, args, state)`);
          if (!(type instanceof PickleGlobal) || !TENSOR_TYPES.has(type.toString())) {
            fail(`${fn}: tensor subclass ${describeValue(type)} is not supported (only torch.Tensor and torch.nn.Parameter)`);
          }
          if (!(inner instanceof PickleGlobal) || inner instanceof OpaqueGlobal || !/^torch\._utils\._rebuild_(tensor|parameter)/.test(inner.toString())) {
            fail(`${fn}: ${describeValue(inner)} is not a tensor rebuild function`);
          }
          const result = hooks.call(inner, innerArgs as PickleValue[], false);
          if (!(result instanceof TorchTensor)) fail(`${fn} did not rebuild a tensor`);
          return result;
        }
        case 'collections.OrderedDict':
          return makeOrderedDict(args);
        case 'builtins.set':
        case 'builtins.frozenset':
          return makeSet(args, fn);
        case 'builtins.bytes':
        case 'builtins.bytearray':
          return makeBytes(args, fn);
        case '_codecs.encode':
          return encodeText(args);
        case 'torch.Size': {
          const [dims] = args;
          if (args.length !== 1 || !Array.isArray(dims)) fail('torch.Size needs a tuple');
          return (dims as PickleValue[]).slice();
        }
        case 'torch.device':
          return makeDevice(args);
        default:
          return fail(`${fn} cannot be called`);
      }
    },

    build(target, state) {
      if (target instanceof PickledObject) target.state = state;
      else if (isPickleDict(target) || target instanceof TorchTensor) {
        // Python attributes of an OrderedDict (a state dict's `_metadata`) or of a tensor: not data we keep.
      } else fail(`BUILD cannot set state on ${describeValue(target)}`);
    },

    persistentLoad: (pid) => context.persistentLoad(pid),
  };
  return hooks;
}

/** The dtype of a persistent id's storage type, or a clear error for anything else. */
export function storageDtype(type: PickleValue): TorchDtype {
  if (!(type instanceof StorageTypeGlobal)) fail(`a persistent id names ${describeValue(type)} where a storage type (torch.FloatStorage, ...) belongs`);
  if (!type.dtype) {
    fail(`storage type ${type} is not supported (supported: ${Object.keys(STORAGE_DTYPES).map((n) => `torch.${n}`).join(', ')})`);
  }
  return type.dtype;
}

/** A persistent id's text field: a str, or bytes from a Python 2 pickle. */
export function pidText(value: PickleValue, what: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder('latin1').decode(value);
  return fail(`a persistent id's ${what} must be a string, got ${describeValue(value)}`);
}

/** A persistent id's element count. */
export function pidCount(value: PickleValue, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return fail(`a persistent id's ${what} must be a non-negative integer, got ${describeValue(value)}`);
}
