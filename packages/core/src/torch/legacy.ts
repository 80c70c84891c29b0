/**
 * The legacy torch.save format (PyTorch < 1.6, or `_use_new_zipfile_serialization=False`): a pickled
 * magic number, protocol version and system info, the main pickle (storages as persistent ids), a pickled
 * list of storage keys, then each storage's raw bytes as an int64 element count followed by the data, all
 * little-endian. The older tar format (PyTorch < 0.4) is refused with a clear error.
 */
import { TorchCheckpointError } from '../errors';
import { fillTensors, type ResolvedReadOptions } from './read-options';
import { pidCount, pidText, storageDtype, torchPickleHooks, type TorchHookContext } from './globals';
import { unpickle, type PickleValue } from './pickle';
import { describeValue, TORCH_DTYPES, TorchStorage } from './tensor';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

interface StorageView {
  storage: TorchStorage;
  root: TorchStorage;
  /** In elements of the root. */
  offset: number;
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar';
}

export function readLegacyCheckpoint(bytes: Uint8Array, options: ResolvedReadOptions): PickleValue {
  if (isTar(bytes)) {
    throw new TorchCheckpointError('this is a tar-format checkpoint from PyTorch < 0.4, which is not supported; re-save it with a recent torch.save');
  }
  if (bytes.length < 2 || bytes[0] !== 0x80) {
    throw new TorchCheckpointError(
      'not a PyTorch checkpoint: it starts neither with a zip header (torch.save since PyTorch 1.6) nor with a pickle (the legacy format)',
    );
  }
  const where = 'the legacy checkpoint';
  const roots = new Map<string, TorchStorage>();
  const views = new Map<string, StorageView>();
  const context: TorchHookContext = {
    where,
    unknownGlobals: options.unknownGlobals,
    pending: [],
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid.length === 0) throw new TorchCheckpointError(`a persistent id must be a tuple, got ${describeValue(pid)}`);
      const kind = pidText(pid[0], 'kind');
      if (kind === 'module') {
        throw new TorchCheckpointError('the checkpoint pickles a whole nn.Module (torch.save(model)); only state dicts and plain data can be read');
      }
      if (kind !== 'storage' || pid.length !== 6) {
        throw new TorchCheckpointError(`a persistent id must be ('storage', type, key, location, numel, view), got ${describeValue(pid)}`);
      }
      const dtype = storageDtype(pid[1]);
      const key = pidText(pid[2], 'key');
      const location = pidText(pid[3], 'location');
      const numel = pidCount(pid[4], 'element count');
      let root = roots.get(key);
      if (!root) roots.set(key, (root = new TorchStorage(dtype, key, location, numel)));
      else if (root.dtype !== dtype) throw new TorchCheckpointError(`storage "${key}" is used as both ${root.dtype} and ${dtype}`);
      const view = pid[5];
      if (view === null) return root;
      if (!Array.isArray(view) || view.length !== 3) throw new TorchCheckpointError(`a storage view must be (key, offset, size), got ${describeValue(view)}`);
      const viewKey = pidText(view[0], 'view key');
      const known = views.get(viewKey);
      if (known) return known.storage;
      const offset = pidCount(view[1], 'view offset');
      const size = pidCount(view[2], 'view size');
      if (offset + size > root.numel) {
        throw new TorchCheckpointError(`storage view "${viewKey}" (${size} elements at ${offset}) lies outside storage "${key}" of ${root.numel}`);
      }
      const storage = new TorchStorage(dtype, viewKey, location, size);
      views.set(viewKey, { storage, root, offset });
      return storage;
    },
  };
  const hooks = torchPickleHooks({ ...context, where: `${where} (main pickle)` });
  // The header pickles and the key list are plain data; a storage there is an error.
  const headerHooks = torchPickleHooks({
    ...context,
    where: `${where} (header)`,
    persistentLoad() {
      throw new TorchCheckpointError('a persistent id in the checkpoint header');
    },
  });
  let at = 0;
  const next = (h: typeof hooks, what: string): PickleValue => {
    const r = unpickle(bytes, at, h, `${where} (${what})`);
    at = r.end;
    return r.value;
  };
  const magic = next(headerHooks, 'magic number');
  if (magic !== MAGIC_NUMBER) throw new TorchCheckpointError('not a PyTorch checkpoint: the legacy magic number is wrong');
  const version = next(headerHooks, 'protocol version');
  if (version !== PROTOCOL_VERSION) throw new TorchCheckpointError(`legacy protocol version ${describeValue(version)} is not supported (expected ${PROTOCOL_VERSION})`);
  next(headerHooks, 'system info');
  const value = next(hooks, 'main pickle');
  const keys = next(headerHooks, 'storage keys');
  if (!Array.isArray(keys)) throw new TorchCheckpointError(`${where}: the storage key list is ${describeValue(keys)}, not a list`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const k of keys) {
    const key = pidText(k, 'storage key');
    const storage = roots.get(key);
    if (!storage) throw new TorchCheckpointError(`${where}: storage "${key}" has data but no tensor uses it`);
    if (storage.bytes) throw new TorchCheckpointError(`${where}: storage "${key}" is listed twice`);
    if (at + 8 > bytes.length) throw new TorchCheckpointError(`${where}: the file is truncated before the data of storage "${key}"`);
    const count = view.getBigInt64(at, true);
    if (count !== BigInt(storage.numel)) {
      throw new TorchCheckpointError(`${where}: storage "${key}" should hold ${storage.numel} elements, the file says ${count}`);
    }
    const length = storage.numel * TORCH_DTYPES[storage.dtype].bytes;
    if (at + 8 + length > bytes.length) {
      throw new TorchCheckpointError(`${where}: the file is truncated inside the data of storage "${key}" (${length} bytes needed)`);
    }
    storage.bytes = bytes.subarray(at + 8, at + 8 + length);
    at += 8 + length;
  }
  for (const root of roots.values()) {
    if (!root.bytes) throw new TorchCheckpointError(`${where}: storage "${root.key}" is used but its data are missing`);
  }
  for (const { storage, root, offset } of views.values()) {
    const size = TORCH_DTYPES[root.dtype].bytes;
    storage.bytes = root.bytes!.subarray(offset * size, (offset + storage.numel) * size);
  }
  fillTensors(context.pending, where, true, options);
  return value;
}
