/** Options of the checkpoint reader, and the step every format ends with: filling the tensors. */
import { TorchCheckpointError } from '../errors';
import { fillTensor, TORCH_DTYPES, type PendingTensor } from './tensor';

export interface ReadTorchCheckpointOptions {
  /**
   * What to do with a Python global outside the allow-list. 'refuse' (default): throw a PickleSecurityError.
   * 'opaque': read it as an inert PickledObject (still nothing is executed), for checkpoints whose
   * non-weight parts (hyper-parameters, callbacks) hold such objects.
   */
  unknownGlobals?: 'refuse' | 'opaque';
  /** Verify the CRC-32 of every zip entry that is read. Default true. */
  checkCrc?: boolean;
  /** Copy every tensor's data instead of viewing the input where alignment allows. Default false. */
  copy?: boolean;
  /**
   * Largest total of bytes the reader may copy (gathered non-contiguous tensors, unaligned data, views
   * expanded by zero strides). Default 4 × the file size + 64 MiB, so a crafted file cannot make it
   * allocate without bound.
   */
  maxCopiedBytes?: number;
}

/** Options every format shares, resolved. */
export interface ResolvedReadOptions {
  unknownGlobals: 'refuse' | 'opaque';
  checkCrc: boolean;
  copy: boolean;
  maxCopiedBytes: number;
}

export function resolveReadOptions(options: ReadTorchCheckpointOptions, fileBytes: number): ResolvedReadOptions {
  const unknownGlobals = options.unknownGlobals ?? 'refuse';
  if (unknownGlobals !== 'refuse' && unknownGlobals !== 'opaque') {
    throw new TorchCheckpointError(`unknownGlobals must be 'refuse' or 'opaque', got ${String(unknownGlobals)}`);
  }
  return {
    unknownGlobals,
    checkCrc: options.checkCrc ?? true,
    copy: options.copy ?? false,
    maxCopiedBytes: options.maxCopiedBytes ?? 4 * fileBytes + 64 * 2 ** 20,
  };
}

/** Fills every pending tensor from its storage, within the copy budget. */
export function fillTensors(pending: PendingTensor[], where: string, littleEndian: boolean, options: ResolvedReadOptions): void {
  let copied = 0;
  for (const p of pending) {
    // Checked before the copy so a crafted size never reaches the allocator.
    const cost = p.tensor.size * TORCH_DTYPES[p.tensor.dtype].bytes;
    if (copied + cost > options.maxCopiedBytes) {
      throw new TorchCheckpointError(
        `${where}: ${p.name} [${p.tensor.shape}] would take the bytes copied past maxCopiedBytes (${options.maxCopiedBytes}); ` +
          'raise the option if the file is trusted',
      );
    }
    copied += fillTensor(p, { littleEndian, copy: options.copy });
  }
}

