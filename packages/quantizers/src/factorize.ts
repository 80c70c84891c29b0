/**
 * Token factorisation: one LFQ token id of d bits as several sub-tokens over consecutive channel groups,
 * as the generators use them (MAGVIT-v2: 2^18 = 2^9 × 2^9; Open-MAGVIT2's AR models: 2^6 × 2^12).
 *
 * Sub-token k holds the bits of channel group k (groups in channel order, sizes `bits`), read in the
 * same bit order as the full id, so the codes of the sub-tokens concatenated along channels are the code
 * of the full id. With 'lsb' (Open-MAGVIT2): id = pre + 2^bits[0]·post; with 'msb' (lucidrains): group 0
 * holds the high bits, id = pre·2^bits[1] + post. Ids are int32 below 2^24; the arithmetic is float32
 * (exact there) so it gives the same result on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, assertDtype, formatShape } from '@vtok/core';
import { assertCodeIndices, type ValueCheck, resolveValueCheck } from './common/validate';
import { LFQ_MAX_BITS, type LfqBitOrder, checkBitGroups } from './lfq/config';

export interface TokenFactorizationConfig {
  /** Size of the full vocabulary, a power of 2 (at most 2^24). */
  codebookSize: number;
  /** Bits of each sub-token, in channel order, summing to log2(codebookSize), e.g. [9, 9] or [6, 12]. */
  bits: readonly number[];
  /** Bit order of the ids, as the LFQ that made them (default 'lsb'). */
  bitOrder?: LfqBitOrder;
  /** When the id-range checks run synchronously (default 'auto': on cpu and wasm). */
  checkValues?: ValueCheck;
}

const WHO = 'TokenFactorization';

export class TokenFactorization {
  readonly codebookSize: number;
  readonly bits: readonly number[];
  readonly bitOrder: LfqBitOrder;
  /** Vocabulary size of each sub-token, 2^bits[k]. */
  readonly vocabSizes: readonly number[];
  /** Place value of sub-token k in the full id. */
  readonly placeValues: readonly number[];
  private readonly checkValues: ValueCheck;

  constructor(config: TokenFactorizationConfig) {
    if (config == null || typeof config !== 'object') throw new ConfigError(`${WHO}: expected a config object, got ${String(config)}`);
    const total = Math.log2(config.codebookSize);
    if (!Number.isInteger(total) || total < 1 || total > LFQ_MAX_BITS) {
      throw new ConfigError(`${WHO}: codebookSize must be a power of 2 in [2, 2^${LFQ_MAX_BITS}], got ${String(config.codebookSize)}`);
    }
    const bits = checkBitGroups(config.bits, total, 'bits', WHO);
    const bitOrder = config.bitOrder ?? 'lsb';
    if (bitOrder !== 'lsb' && bitOrder !== 'msb') throw new ConfigError(`${WHO}: bitOrder must be 'lsb' or 'msb', got ${String(bitOrder)}`);
    const checkValues = resolveValueCheck(config.checkValues, WHO);
    this.codebookSize = config.codebookSize;
    this.bits = Object.freeze(bits);
    this.bitOrder = bitOrder;
    this.vocabSizes = Object.freeze(bits.map((b) => 2 ** b));
    // 'lsb': group k starts at bit Σ_{j<k} bits_j; 'msb': group k sits above the groups after it.
    const below = bits.map((_, k) => (bitOrder === 'lsb' ? bits.slice(0, k) : bits.slice(k + 1)).reduce((a, b) => a + b, 0));
    this.placeValues = Object.freeze(below.map((b) => 2 ** b));
    this.checkValues = checkValues;
  }

  /** int32 ids (any shape) → one int32 tensor per sub-token, same shape. */
  split(ids: tf.Tensor): tf.Tensor[] {
    assertCodeIndices(ids, this.codebookSize, `${WHO}.split`, this.checkValues);
    return tf.tidy(() => {
      const id = tf.cast(ids, 'float32');
      return this.bits.map((_, k) =>
        tf.cast(tf.mod(tf.floor(tf.div(id, this.placeValues[k])), this.vocabSizes[k]), 'int32'),
      );
    });
  }

  /** One int32 tensor per sub-token (same shapes) → int32 full ids. */
  merge(parts: readonly tf.Tensor[]): tf.Tensor {
    if (!Array.isArray(parts) || parts.length !== this.bits.length) {
      throw new ShapeError(`${WHO}.merge: expected ${this.bits.length} sub-token tensors, got ${Array.isArray(parts) ? parts.length : String(parts)}`);
    }
    parts.forEach((p: tf.Tensor, k: number) => {
      assertDtype(p, 'int32', `${WHO}.merge`, `sub-token ${k}`);
      if (p.rank !== parts[0].rank || p.shape.some((s: number, i: number) => s !== parts[0].shape[i])) {
        throw new ShapeError(`${WHO}.merge: sub-tokens must share one shape, got ${formatShape(parts[0].shape)} and ${formatShape(p.shape)} (sub-token ${k})`);
      }
      assertCodeIndices(p, this.vocabSizes[k], `${WHO}.merge (sub-token ${k})`, this.checkValues);
    });
    return tf.tidy(() => {
      const terms = parts.map((p, k) => tf.mul(tf.cast(p, 'float32'), this.placeValues[k]));
      return tf.cast(terms.length === 1 ? terms[0] : tf.addN(terms), 'int32');
    });
  }
}
