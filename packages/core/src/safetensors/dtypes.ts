/**
 * safetensors dtypes: the names the format knows, their sizes, and the tfjs dtype each one is read into.
 */

/**
 * Every dtype name the reference implementation (huggingface/safetensors, Rust `Dtype`) knows, in its
 * declaration order, which is increasing alignment: the writer sorts tensors by this order, descending.
 * The value is the size of one element in bits.
 */
export const SAFETENSORS_DTYPE_BITS = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
} as const;

/** Any dtype name a safetensors header may carry. */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BITS;

/** The tfjs dtypes a safetensors tensor is read into. */
export type RawDtype = 'float32' | 'int32' | 'bool';

/**
 * The dtypes this reader decodes, and what into: floats become float32 (F16/BF16 exactly, F64 rounded),
 * integers become int32 (a value outside the int32 range is an error, never a silent wrap), BOOL stays bool.
 */
export const READABLE_DTYPES = {
  F32: 'float32',
  F16: 'float32',
  BF16: 'float32',
  F64: 'float32',
  I64: 'int32',
  I32: 'int32',
  I16: 'int32',
  I8: 'int32',
  U64: 'int32',
  U32: 'int32',
  U16: 'int32',
  U8: 'int32',
  BOOL: 'bool',
} as const satisfies Partial<Record<SafetensorsDtype, RawDtype>>;

/** A dtype this reader decodes. */
export type ReadableDtype = keyof typeof READABLE_DTYPES;

/** What the writer emits for each tfjs dtype. */
export const WRITTEN_DTYPES = { float32: 'F32', int32: 'I32', bool: 'BOOL' } as const satisfies Record<RawDtype, SafetensorsDtype>;

const ORDER: Record<string, number> = Object.fromEntries(Object.keys(SAFETENSORS_DTYPE_BITS).map((name, i) => [name, i]));

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BITS, value);
}

export function isReadableDtype(value: SafetensorsDtype): value is ReadableDtype {
  return Object.prototype.hasOwnProperty.call(READABLE_DTYPES, value);
}

/** Position in the reference implementation's dtype order (higher = larger alignment). */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return ORDER[dtype];
}
