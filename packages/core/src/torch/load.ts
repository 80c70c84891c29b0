/**
 * Loading PyTorch checkpoints from the same sources as safetensors files: bytes, a file path (Node) or
 * a URL, then reading them and picking the state dict.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { TorchCheckpointError } from '../errors';
import { loadSafetensorsBytes, type LoadSafetensorsOptions, type SafetensorsSource } from '../safetensors/sources';
import { readTorchCheckpoint } from './checkpoint';
import { torchTensorsToTf } from './convert';
import type { PickleValue } from './pickle';
import type { ReadTorchCheckpointOptions } from './read-options';
import { selectTorchStateDict, type SelectTorchStateDictOptions } from './state-dict';

/** Anything a checkpoint can be loaded from: bytes, a file path (Node), or an http(s) / file URL. */
export type TorchCheckpointSource = SafetensorsSource;

export interface LoadTorchCheckpointOptions extends ReadTorchCheckpointOptions, Pick<LoadSafetensorsOptions, 'fetch' | 'signal' | 'onProgress' | 'cache' | 'cacheDir' | 'allowRemote'> {}

export interface LoadTorchStateDictOptions extends LoadTorchCheckpointOptions, SelectTorchStateDictOptions {}

async function checkpointBytes(source: TorchCheckpointSource, options: LoadTorchCheckpointOptions): Promise<Uint8Array> {
  const ok = source instanceof Uint8Array || source instanceof ArrayBuffer || source instanceof URL || typeof source === 'string';
  if (!ok) throw new TorchCheckpointError(`cannot load a checkpoint from ${source === null ? 'null' : typeof source}; expected a path, URL, Uint8Array or ArrayBuffer`);
  const { fetch, signal, onProgress, cache, cacheDir, allowRemote } = options;
  return loadSafetensorsBytes(source, { fetch, signal, onProgress, cache, cacheDir, allowRemote });
}

/** Loads and reads a torch.save file from bytes, a file path (Node) or a URL. See `readTorchCheckpoint`. */
export async function loadTorchCheckpoint(source: TorchCheckpointSource, options: LoadTorchCheckpointOptions = {}): Promise<PickleValue> {
  return readTorchCheckpoint(await checkpointBytes(source, options), options);
}

/**
 * Loads a PyTorch checkpoint (`.ckpt`, `.pt`, `.pth`, `.bin`) and returns its model weights as tf.Tensors
 * keyed by their PyTorch names: the state dict is found in a Lightning-style checkpoint (`state_dict`),
 * a training dict (`model`, ...) or the top level; EMA weights replace the raw ones where the file has
 * them (`preferEma`, default true). float16 / bfloat16 / float64 become float32, integers int32 (range
 * checked), bool stays bool. The caller owns, and must dispose, the tensors.
 */
export async function loadTorchStateDict(source: TorchCheckpointSource, options: LoadTorchStateDictOptions = {}): Promise<Record<string, tf.Tensor>> {
  const root = await loadTorchCheckpoint(source, options);
  return torchTensorsToTf(selectTorchStateDict(root, options).tensors);
}
