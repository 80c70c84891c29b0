/**
 * Reading a whole torch.save file into plain data: the zip format (PyTorch >= 1.6, the default) and
 * the legacy stream format (magic number, pickles, raw storages). Tensors come back contiguous, as
 * TorchTensors; nothing in the file is executed.
 */
import { TorchCheckpointError } from '../errors';
import { pidCount, pidText, storageDtype, torchPickleHooks, type TorchHookContext } from './globals';
import { readLegacyCheckpoint } from './legacy';
import { unpickle, type PickleValue } from './pickle';
import { fillTensors, resolveReadOptions, type ReadTorchCheckpointOptions, type ResolvedReadOptions } from './read-options';
import { describeValue, TORCH_DTYPES, TorchStorage } from './tensor';
import { ZipArchive } from './zip';

function asBytes(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TorchCheckpointError(`a checkpoint must be a Uint8Array or ArrayBuffer, got ${describeValue(bytes)}`);
}

function readZipCheckpoint(bytes: Uint8Array, options: ResolvedReadOptions): PickleValue {
  const zip = new ZipArchive(bytes);
  const first = zip.entries.keys().next().value;
  if (first === undefined) throw new TorchCheckpointError('the zip archive is empty; a torch.save archive holds <name>/data.pkl');
  // torch.save puts everything under one folder, named after the file; the first entry gives it.
  const slash = first.indexOf('/');
  if (slash < 0) throw new TorchCheckpointError(`entry "${first}" is not inside a folder; this is not a torch.save archive`);
  const prefix = first.slice(0, slash + 1);
  const where = `${prefix}data.pkl`;
  if (!zip.has(where)) {
    const script = zip.has(`${prefix}constants.pkl`) || [...zip.entries.keys()].some((n) => n.startsWith(`${prefix}code/`));
    throw new TorchCheckpointError(
      script
        ? 'this is a TorchScript archive (torch.jit.save); only torch.save checkpoints can be read'
        : `the archive has no "${where}"; this is not a torch.save archive`,
    );
  }
  let littleEndian = true;
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder('latin1').decode(zip.read(`${prefix}byteorder`, options.checkCrc));
    if (order !== 'little' && order !== 'big') throw new TorchCheckpointError(`unknown byte order "${order.slice(0, 20)}" in ${prefix}byteorder`);
    littleEndian = order === 'little';
  }

  const storages = new Map<string, TorchStorage>();
  const context: TorchHookContext = {
    where,
    unknownGlobals: options.unknownGlobals,
    pending: [],
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid.length !== 5 || pidText(pid[0], 'kind') !== 'storage') {
        throw new TorchCheckpointError(`a persistent id must be ('storage', type, key, location, numel), got ${describeValue(pid)}`);
      }
      const dtype = storageDtype(pid[1]);
      const key = pidText(pid[2], 'key');
      const location = pidText(pid[3], 'location');
      const numel = pidCount(pid[4], 'element count');
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== dtype) throw new TorchCheckpointError(`storage "${key}" is used as both ${known.dtype} and ${dtype}`);
        return known;
      }
      const name = `${prefix}data/${key}`;
      if (!zip.has(name)) throw new TorchCheckpointError(`storage "${key}" has no data: the archive has no entry "${name}"`);
      const data = zip.read(name, options.checkCrc);
      const need = numel * TORCH_DTYPES[dtype].bytes;
      if (data.length < need) {
        throw new TorchCheckpointError(`storage "${key}" should hold ${numel} ${dtype} values (${need} bytes) but "${name}" has ${data.length} bytes`);
      }
      const storage = new TorchStorage(dtype, key, location, numel, data.subarray(0, need));
      storages.set(key, storage);
      return storage;
    },
  };
  const pickle = zip.read(where, options.checkCrc);
  const { value } = unpickle(pickle, 0, torchPickleHooks(context), where);
  fillTensors(context.pending, where, littleEndian, options);
  return value;
}

/**
 * Reads a torch.save file (bytes) into plain data: dicts as null-prototype objects, lists and tuples as
 * arrays, tensors as TorchTensor `{ dtype, shape, data }` (contiguous, row-major). Only globals on the
 * allow-list (tensor rebuild functions, storage types, OrderedDict, plain containers) are accepted; any
 * other raises a PickleSecurityError and nothing is executed. Malformed files raise TorchCheckpointError.
 */
export function readTorchCheckpoint(bytes: Uint8Array | ArrayBuffer, options: ReadTorchCheckpointOptions = {}): PickleValue {
  const buffer = asBytes(bytes);
  const resolved = resolveReadOptions(options, buffer.length);
  // A zip archive starts with a local header (or, when empty, with its end record).
  if (buffer.length >= 4 && buffer[0] === 0x50 && buffer[1] === 0x4b && ((buffer[2] === 3 && buffer[3] === 4) || (buffer[2] === 5 && buffer[3] === 6))) {
    return readZipCheckpoint(buffer, resolved);
  }
  return readLegacyCheckpoint(buffer, resolved);
}
