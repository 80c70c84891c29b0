/**
 * A deliberately small safetensors parser for the golden files (F32 and I32 only, as the golden README
 * promises). It is independent of @vtok/core's reader on purpose: the fixtures that check the library
 * must not be read by the code under test.
 */

/** One golden tensor; shaped like core's `RawTensor`, so it can go wherever one is expected. */
export type GoldenTensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array; sourceDtype: 'F32' }
  | { dtype: 'int32'; shape: number[]; data: Int32Array; sourceDtype: 'I32' };

export interface ParsedSafetensors {
  metadata: Record<string, string>;
  tensors: Record<string, GoldenTensor>;
}

/** Parses a whole file; every tensor's data is a copy (aligned, owned by the result). */
export function parseSafetensors(bytes: Uint8Array, label = 'safetensors'): ParsedSafetensors {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, any>;
  const start = 8 + n;
  const tensors: Record<string, GoldenTensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets as [number, number];
    const count = (end - begin) / 4;
    const expectedCount = (info.shape as number[]).reduce((a, b) => a * b, 1);
    if (count !== expectedCount) throw new Error(`${label}: ${name} holds ${count} values, its shape [${info.shape}] needs ${expectedCount}`);
    if (info.dtype === 'F32') {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + begin + 4 * i, true);
      tensors[name] = { dtype: 'float32', shape: [...info.shape], data, sourceDtype: 'F32' };
    } else if (info.dtype === 'I32') {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(start + begin + 4 * i, true);
      tensors[name] = { dtype: 'int32', shape: [...info.shape], data, sourceDtype: 'I32' };
    } else {
      throw new Error(`${label}: ${name} has dtype ${info.dtype}; the golden files hold only F32 and I32`);
    }
  }
  return { metadata: header.__metadata__ ?? {}, tensors };
}
