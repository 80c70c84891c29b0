/**
 * Weights files, recognised by their content rather than their name: safetensors (streamed tensor by
 * tensor; files of any size) or a PyTorch checkpoint (zip archive or legacy pickle, read by the safe
 * allow-listed reader; nothing in it is executed). Either way the names, shapes and dtypes of every
 * tensor are known before any data is copied into a model.
 */
import { SafetensorsError, TorchCheckpointError } from '../errors';
import { openSafetensorsStream } from '../safetensors/stream';
import type { RawTensor } from '../safetensors/types';
import { readTorchCheckpoint } from '../torch/checkpoint';
import { torchTensorToRaw } from '../torch/convert';
import { selectTorchStateDict, type SelectTorchStateDictOptions } from '../torch/state-dict';
import { type OpenedFile, peek } from './file';

export type WeightsFormat = 'safetensors' | 'pytorch';

export interface WeightsEntry {
  name: string;
  shape: number[];
  /** The dtype in the file (`F32`, `BF16`, …, or torch's `float32`, …). */
  dtype: string;
}

export interface WeightsFile {
  readonly format: WeightsFormat;
  /** Path or URL, for messages. */
  readonly where: string;
  /** safetensors `__metadata__` (empty for PyTorch files). */
  readonly metadata: Record<string, string>;
  /** Every tensor, in file order. */
  readonly entries: readonly WeightsEntry[];
  /** Reads every tensor once, in file order; a tensor's data may be reused after the callback returns. */
  forEach(onTensor: (entry: WeightsEntry, tensor: RawTensor) => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface OpenWeightsOptions extends SelectTorchStateDictOptions {
  /** PyTorch files: a pickle global outside the allow-list is refused (default) or read as inert data. */
  unknownGlobals?: 'refuse' | 'opaque';
}

/** What the first bytes say a file is. */
export function sniffWeightsFormat(head: Uint8Array): WeightsFormat | undefined {
  if (head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'pytorch';
  if (head.byteLength >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return 'pytorch';
  if (head.byteLength >= 9 && head[8] === 0x7b) return 'safetensors'; // u64 header length, then '{'
  return undefined;
}

const describeHead = (head: Uint8Array) => [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** Opens an opened file as weights. The file is closed with the result (or on error). */
export async function openWeights(opened: OpenedFile, options: OpenWeightsOptions = {}): Promise<WeightsFile> {
  try {
    const { head, file } = await peek(opened, 9);
    const format = sniffWeightsFormat(head);
    if (format === 'safetensors') return await safetensorsWeights(file);
    if (format === 'pytorch') return await torchWeights(file, options);
    throw new SafetensorsError(
      `${opened.where}: not a weights file: it is neither safetensors nor a PyTorch checkpoint (it is ${opened.size ?? '?'} bytes${head.byteLength ? `, starting ${describeHead(head)}` : ''})`,
    );
  } catch (error) {
    await opened.close().catch(() => undefined);
    throw error;
  }
}

async function safetensorsWeights(file: OpenedFile): Promise<WeightsFile> {
  const stream = await openSafetensorsStream(file.read, { where: file.where, totalBytes: file.size });
  return {
    format: 'safetensors',
    where: file.where,
    metadata: stream.header.metadata,
    entries: stream.header.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })),
    forEach: (onTensor) => stream.forEach((info, tensor) => onTensor({ name: info.name, shape: info.shape, dtype: info.dtype }, tensor)),
    close: () => file.close(),
  };
}

async function torchWeights(file: OpenedFile, options: OpenWeightsOptions): Promise<WeightsFile> {
  const bytes = await file.bytes();
  await file.close();
  let selected;
  try {
    selected = selectTorchStateDict(readTorchCheckpoint(bytes, { unknownGlobals: options.unknownGlobals }), options);
  } catch (error) {
    if (error instanceof TorchCheckpointError) throw new TorchCheckpointError(`${file.where}: ${error.message}`, { cause: error });
    throw error;
  }
  const tensors = selected.tensors;
  return {
    format: 'pytorch',
    where: file.where,
    metadata: {},
    entries: Object.entries(tensors).map(([name, t]) => ({ name, shape: [...t.shape], dtype: t.dtype })),
    async forEach(onTensor) {
      for (const [name, t] of Object.entries(tensors)) await onTensor({ name, shape: [...t.shape], dtype: t.dtype }, torchTensorToRaw(name, t));
    },
    close: async () => undefined,
  };
}
