/**
 * From TorchTensors to what tfjs holds, with the safetensors reader's conversions (shared code):
 * float16 / bfloat16 exactly to float32, float64 rounded to float32, integers to int32 with a range check
 * (an out-of-range value is an error, never a silent wrap), bool stays bool.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError, TorchCheckpointError } from '../errors';
import { decodeTensor, LITTLE_ENDIAN } from '../safetensors/decode';
import type { ReadableDtype } from '../safetensors/dtypes';
import { quote, setOwn } from '../safetensors/header';
import { toTensors } from '../safetensors/read';
import type { RawTensor } from '../safetensors/types';
import { TORCH_DTYPES, type TorchDtype, type TorchTensor } from './tensor';

/** The safetensors name of each torch dtype, which picks the shared decoder. */
const SAFETENSORS_NAMES: Record<TorchDtype, ReadableDtype> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

/** The tensor's values as little-endian bytes (a view on little-endian platforms). */
function littleEndianBytes(t: TorchTensor): Uint8Array {
  const data = t.data;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const size = TORCH_DTYPES[t.dtype].bytes;
  if (LITTLE_ENDIAN || size === 1) return bytes;
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

/**
 * A TorchTensor as a RawTensor (float32, int32 or bool data, ready for `tf.tensor`). float32 and int32
 * data are shared, not copied. Throws TorchCheckpointError for an integer outside the int32 range.
 */
export function torchTensorToRaw(name: string, t: TorchTensor): RawTensor {
  const expected = t.size;
  if (t.data.length !== expected) {
    throw new TorchCheckpointError(`tensor ${quote(name)}: ${t.data.length} values for shape [${t.shape}] (${expected} expected)`);
  }
  try {
    return decodeTensor(name, SAFETENSORS_NAMES[t.dtype], t.shape.slice(), littleEndianBytes(t), false);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new TorchCheckpointError(`${error.message} (torch dtype ${t.dtype})`, { cause: error });
    throw error;
  }
}

/** RawTensors of a name -> TorchTensor record. */
export function torchTensorsToRaw(tensors: Record<string, TorchTensor>): Record<string, RawTensor> {
  const out: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) setOwn(out, name, torchTensorToRaw(name, t));
  return out;
}

/**
 * tf.Tensors of a name -> TorchTensor record, on the active backend (float16 / bfloat16 / float64 as
 * float32, integers as int32, bool as bool). The caller owns, and must dispose, the result; if one
 * conversion fails, nothing is left allocated.
 */
export function torchTensorsToTf(tensors: Record<string, TorchTensor>): Record<string, tf.Tensor> {
  return toTensors(torchTensorsToRaw(tensors));
}
