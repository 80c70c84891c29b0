/** Reading a whole safetensors file into RawTensors or tf.Tensors. */
import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsError } from '../errors';
import { isReadableDtype, READABLE_DTYPES } from './dtypes';
import { decodeTensor } from './decode';
import { asBytes, parseSafetensorsHeader, quote, setOwn } from './header';
import type { RawTensor, RawTensorInput, ReadSafetensorsOptions, SafetensorsFile } from './types';

/**
 * Reads a safetensors file. Supported dtypes: F32, F16, BF16, F64 (-> float32), I64, I32, I16, I8, U64,
 * U32, U16, U8 (-> int32; out-of-range values are an error), BOOL (-> bool). Malformed input throws a
 * SafetensorsError that says what is wrong. Unless `copy` is set, aligned F32/I32 data are views into
 * `bytes` (no copy); do not modify `bytes` while they are in use.
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer, options: ReadSafetensorsOptions = {}): SafetensorsFile {
  const buffer = asBytes(bytes);
  const header = parseSafetensorsHeader(buffer, options);
  // Check every dtype before decoding anything, so an unsupported one fails fast.
  for (const t of header.tensors) {
    if (!isReadableDtype(t.dtype)) {
      throw new SafetensorsError(
        `tensor ${quote(t.name)}: dtype ${t.dtype} is valid safetensors but cannot be read here ` +
          `(supported: ${Object.keys(READABLE_DTYPES).join(', ')})`,
      );
    }
  }
  const tensors: Record<string, RawTensor> = {};
  for (const t of header.tensors) {
    const [begin, end] = t.dataOffsets;
    const data = buffer.subarray(header.dataStart + begin, header.dataStart + end);
    if (!isReadableDtype(t.dtype)) continue; // checked above
    setOwn(tensors, t.name, decodeTensor(t.name, t.dtype, t.shape, data, options.copy ?? false));
  }
  return { tensors, metadata: header.metadata };
}

/**
 * Makes tf.Tensors of RawTensors (on the active backend). The caller owns, and must dispose, the result.
 * If one tensor cannot be made, those already made are disposed before the error is thrown.
 */
export function toTensors(raw: Record<string, RawTensor | RawTensorInput>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  try {
    for (const [name, t] of Object.entries(raw)) setOwn(out, name, tf.tensor(t.data, t.shape, t.dtype));
  } catch (error) {
    for (const t of Object.values(out)) t.dispose();
    throw error;
  }
  return out;
}

/** `toTensors(readSafetensors(bytes).tensors)`. The caller owns the tensors. */
export function readSafetensorsAsTensors(bytes: Uint8Array | ArrayBuffer, options: ReadSafetensorsOptions = {}): Record<string, tf.Tensor> {
  return toTensors(readSafetensors(bytes, options).tensors);
}
