import type { ReadableDtype, SafetensorsDtype } from './dtypes';

interface RawTensorOf<D extends string, A> {
  /** The tfjs dtype of `data`. */
  dtype: D;
  /** Row-major shape; `[]` is a scalar. */
  shape: number[];
  /** The values, row-major; the typed array tfjs uses for `dtype`. */
  data: A;
  /** The dtype stored in the file (`F16` for a half-precision tensor read into float32, ...). */
  sourceDtype: ReadableDtype;
}

/**
 * A tensor read from a safetensors file, decoded but not yet on a backend. `data` may be a view into the
 * bytes that were read (when they were aligned); it never reaches past them.
 */
export type RawTensor =
  | RawTensorOf<'float32', Float32Array>
  | RawTensorOf<'int32', Int32Array>
  | RawTensorOf<'bool', Uint8Array>;

/** What `writeSafetensors` accepts besides a tf.Tensor: a RawTensor whose `sourceDtype` is optional. */
export type RawTensorInput = RawTensor extends infer T
  ? T extends RawTensor
    ? Omit<T, 'sourceDtype'> & { sourceDtype?: ReadableDtype }
    : never
  : never;

/** The content of a safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in the order of their data in the file. */
  tensors: Record<string, RawTensor>;
  /** The `__metadata__` string map (empty when the file has none). */
  metadata: Record<string, string>;
}

/** One tensor entry of a validated header. */
export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range `[begin, end)` relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A validated header. */
export interface SafetensorsHeader {
  /** N, the length of the JSON header in bytes (padding included). */
  headerLength: number;
  /** 8 + N: where the data section starts in the file. */
  dataStart: number;
  /** Length of the data section in bytes. */
  dataLength: number;
  metadata: Record<string, string>;
  /** In data order (increasing offsets). */
  tensors: SafetensorsTensorInfo[];
}

export interface ReadSafetensorsOptions {
  /** Largest header (JSON) length accepted, in bytes. Default 100 MB (100 000 000), as the reference. */
  maxHeaderBytes?: number;
  /**
   * Copy every tensor's data out of the input instead of viewing it where alignment allows. Default
   * false: F32/I32 tensors at 4-byte aligned offsets share memory with the input.
   */
  copy?: boolean;
}
