/**
 * Tensors and storages as a PyTorch checkpoint describes them, with no tfjs involved: the dtypes this
 * reader knows, the storage objects that persistent ids name, and the gather that turns (storage,
 * offset, size, stride) into a contiguous row-major typed array.
 */
import { TorchCheckpointError } from '../errors';
import { LITTLE_ENDIAN } from '../safetensors/decode';

/** The torch dtypes this reader rebuilds. */
export type TorchDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * The typed array holding each dtype's values. float16 and bfloat16 keep their raw 16-bit patterns
 * (a Uint16Array), int64 is a BigInt64Array, bool a Uint8Array of 0/1 bytes as stored.
 */
export interface TorchTypedArrays {
  float64: Float64Array;
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}
export type TorchTypedArray = TorchTypedArrays[TorchDtype];

type ArrayCtor = {
  new (length: number): TorchTypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TorchTypedArray;
};

interface DtypeInfo {
  bytes: number;
  array: ArrayCtor;
}

export const TORCH_DTYPES: Record<TorchDtype, DtypeInfo> = {
  float64: { bytes: 8, array: Float64Array },
  float32: { bytes: 4, array: Float32Array },
  float16: { bytes: 2, array: Uint16Array },
  bfloat16: { bytes: 2, array: Uint16Array },
  int64: { bytes: 8, array: BigInt64Array as unknown as ArrayCtor },
  int32: { bytes: 4, array: Int32Array },
  int16: { bytes: 2, array: Int16Array },
  int8: { bytes: 1, array: Int8Array },
  uint8: { bytes: 1, array: Uint8Array },
  bool: { bytes: 1, array: Uint8Array },
};

/**
 * The legacy typed-storage class names torch.save writes into persistent ids (`torch.FloatStorage`, ...),
 * and the dtype each stands for. `UntypedStorage` holds raw bytes. Names torch knows but this reader does
 * not decode (complex, quantised, float8, unsigned 16/32/64) map to undefined: a clear error when used.
 */
export const STORAGE_DTYPES: Record<string, TorchDtype | undefined> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** A tensor read from a checkpoint: contiguous, row-major. `shape: []` is a scalar. */
export class TorchTensor<D extends TorchDtype = TorchDtype> {
  readonly dtype: D;
  readonly shape: number[];
  /** Row-major values; filled in once the file's storages are read. */
  data: TorchTypedArrays[D];
  constructor(dtype: D, shape: number[], data: TorchTypedArrays[D]) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }
  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/**
 * One storage named by a persistent id: `numel` elements of `dtype`, whose bytes come from the zip entry
 * `data/<key>` (or, in the legacy format, from the raw section after the pickles). `bytes` is set once
 * they are read; a view of another storage (legacy format only) points at its root.
 */
export class TorchStorage {
  readonly dtype: TorchDtype;
  readonly key: string;
  readonly location: string;
  readonly numel: number;
  bytes: Uint8Array | undefined;
  constructor(dtype: TorchDtype, key: string, location: string, numel: number, bytes?: Uint8Array) {
    this.dtype = dtype;
    this.key = key;
    this.location = location;
    this.numel = numel;
    this.bytes = bytes;
  }
}

/** A tensor whose data waits for its storage's bytes. */
export interface PendingTensor {
  tensor: TorchTensor;
  storage: TorchStorage;
  offset: number;
  stride: number[];
  name: string;
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function asIndexList(value: unknown, what: string, where: string): number[] {
  if (!Array.isArray(value) || !value.every(isIndex)) {
    throw new TorchCheckpointError(`${where}: the tensor's ${what} must be a tuple of non-negative integers, got ${describeValue(value)}`);
  }
  return value.slice() as number[];
}

/** A short description of a pickled value for error messages (never its full content). */
export function describeValue(value: unknown): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return `a tuple/list of ${value.length}${value.length <= 8 ? ` (${value.map(describeValue).join(', ')})` : ''}`;
  if (value instanceof TorchTensor) return `a ${value.dtype} tensor [${value.shape}]`;
  if (value instanceof TorchStorage) return `a ${value.dtype} storage`;
  if (value instanceof Uint8Array) return `bytes of length ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Set) return `a set of ${value.size}`;
  if (typeof value === 'object') {
    // Globals and opaque objects carry the Python name they stand for.
    const named = value as { module?: unknown; name?: unknown; args?: unknown };
    if (Object.getPrototypeOf(value) !== null && typeof named.module === 'string' && typeof named.name === 'string') {
      const full = `${named.module}.${named.name}`.slice(0, 80);
      return Array.isArray(named.args) ? `a ${full} object` : full;
    }
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `a ${name}` : 'a dict';
  }
  return typeof value;
}

/**
 * Checks a tensor view (storage offset, size, stride, all in elements) against its storage and returns
 * the unfilled tensor. Nothing is read yet: in the legacy format the bytes come after the pickle.
 */
export function viewTensor(storage: TorchStorage, offsetValue: unknown, sizeValue: unknown, strideValue: unknown, where: string): PendingTensor {
  if (!isIndex(offsetValue)) throw new TorchCheckpointError(`${where}: the tensor's storage offset must be a non-negative integer, got ${describeValue(offsetValue)}`);
  const shape = asIndexList(sizeValue, 'size', where);
  const stride = asIndexList(strideValue, 'stride', where);
  if (shape.length !== stride.length) {
    throw new TorchCheckpointError(`${where}: the tensor has ${shape.length} sizes but ${stride.length} strides`);
  }
  let numel = 1;
  for (const d of shape) numel *= d;
  if (!Number.isSafeInteger(numel) || numel > 2 ** 32) {
    throw new TorchCheckpointError(`${where}: a tensor of shape [${shape}] is too large to read (${numel} elements)`);
  }
  if (numel > 0) {
    // The last element the view touches must lie inside the storage.
    let last = offsetValue;
    for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * stride[i];
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      throw new TorchCheckpointError(
        `${where}: a tensor of shape [${shape}], stride [${stride}] at offset ${offsetValue} reaches element ${last} ` +
          `of a storage of ${storage.numel} elements`,
      );
    }
  }
  const { array } = TORCH_DTYPES[storage.dtype];
  return { tensor: new TorchTensor(storage.dtype, shape, new array(0)), storage, offset: offsetValue, stride, name: where };
}

/** True when a (size, stride) view walks its elements in plain row-major order. */
function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

export interface GatherOptions {
  /** The file's byte order. */
  littleEndian: boolean;
  /** Always copy, never view the input bytes. */
  copy: boolean;
}

/**
 * Fills a pending tensor's data from its storage's bytes. Contiguous views of aligned bytes in the
 * platform's byte order stay views (no copy) unless `copy`; everything else is gathered into a fresh
 * array. Returns the number of bytes copied.
 */
export function fillTensor(pending: PendingTensor, options: GatherOptions): number {
  const { tensor, storage, offset, stride } = pending;
  const bytes = storage.bytes;
  if (!bytes) throw new TorchCheckpointError(`${pending.name}: the data of storage "${storage.key}" was never read`);
  const { bytes: size, array } = TORCH_DTYPES[tensor.dtype];
  const numel = tensor.size;
  const swap = options.littleEndian !== LITTLE_ENDIAN && size > 1;
  if (numel === 0) {
    tensor.data = new array(0) as typeof tensor.data;
    return 0;
  }
  if (isContiguous(tensor.shape, stride)) {
    const start = offset * size;
    const slice = bytes.subarray(start, start + numel * size);
    if (!swap && !options.copy && slice.byteOffset % size === 0) {
      tensor.data = new array(slice.buffer, slice.byteOffset, numel) as typeof tensor.data;
      return 0;
    }
    const own = new Uint8Array(slice); // fresh and aligned
    if (swap) swapBytes(own, size);
    tensor.data = new array(own.buffer, 0, numel) as typeof tensor.data;
    return own.byteLength;
  }
  // Non-contiguous: walk the output in row-major order with an odometer over the source index, copying
  // whole elements as unsigned words (bit patterns kept, NaN payloads included).
  const out = new Uint8Array(numel * size);
  const words = size === 8 ? 2 : 1;
  const Word: { new (buffer: ArrayBufferLike, offset: number, length: number): Uint8Array | Uint16Array | Uint32Array; BYTES_PER_ELEMENT: number } =
    size === 1 ? Uint8Array : size === 2 ? Uint16Array : Uint32Array;
  const aligned = bytes.byteOffset % Word.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
  const src = new Word(aligned.buffer, aligned.byteOffset, Math.floor(aligned.byteLength / Word.BYTES_PER_ELEMENT));
  const dst = new Word(out.buffer, 0, numel * words);
  const rank = tensor.shape.length;
  const index = new Array<number>(rank).fill(0);
  const inner = rank - 1;
  const innerSize = tensor.shape[inner];
  const innerStride = stride[inner] * words;
  let source = offset * words;
  let at = 0;
  for (;;) {
    if (words === 1) {
      for (let k = 0, s = source; k < innerSize; k++, s += innerStride) dst[at++] = src[s];
    } else {
      for (let k = 0, s = source; k < innerSize; k++, s += innerStride) {
        dst[at++] = src[s];
        dst[at++] = src[s + 1];
      }
    }
    // Advance the outer dimensions.
    let d = inner - 1;
    while (d >= 0) {
      index[d]++;
      source += stride[d] * words;
      if (index[d] < tensor.shape[d]) break;
      source -= tensor.shape[d] * stride[d] * words;
      index[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  if (swap) swapBytes(out, size);
  tensor.data = new array(out.buffer, 0, numel) as typeof tensor.data;
  return out.byteLength + (aligned === bytes ? 0 : aligned.byteLength);
}

/** Reverses the bytes of every `size`-byte element in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
