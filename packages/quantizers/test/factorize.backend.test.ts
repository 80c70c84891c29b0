// Token factorisation on the active backend: split/merge round trips at 2^18 and agreement with LFQ's codes.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TokenFactorization } from '../src/factorize';
import { LookupFreeQuantizer } from '../src/lfq';

/** Ids covering 0, the top id, single bits and pseudo-random values below 2^bits. */
function someIds(bits: number): number[] {
  const ids = [0, 2 ** bits - 1];
  for (let i = 0; i < bits; i++) ids.push(2 ** i);
  let s = 12345;
  for (let i = 0; i < 200; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids.push(s % 2 ** bits);
  }
  return ids;
}

describe('TokenFactorization', () => {
  for (const bits of [[9, 9], [6, 12], [4, 6, 8]]) {
    for (const bitOrder of ['lsb', 'msb'] as const) {
      it(`2^18 as ${JSON.stringify(bits)}, ${bitOrder}: split ∘ merge = id, place values, and LFQ codes per channel group`, async () => {
        const f = new TokenFactorization({ codebookSize: 2 ** 18, bits, bitOrder });
        const values = someIds(18);
        const ids = tf.tensor2d(values, [values.length / 2, 2], 'int32');
        const parts = f.split(ids);
        const merged = f.merge(parts);
        expect(Array.from(await merged.data())).toEqual(values);

        // Plain arithmetic: 'lsb' puts sub-token 0 in the low bits, 'msb' in the high bits.
        const partValues = await Promise.all(parts.map((p) => p.data()));
        values.forEach((id, i) => {
          let rest = id;
          const order = bitOrder === 'lsb' ? bits.map((_, k) => k) : bits.map((_, k) => bits.length - 1 - k);
          for (const k of order) {
            expect(partValues[k][i], `id ${id} sub-token ${k}`).toBe(rest % 2 ** bits[k]);
            rest = Math.floor(rest / 2 ** bits[k]);
          }
        });

        // Sub-token k is the id of channel group k under the same bit order: the concatenated sub-codes are the code.
        const full = new LookupFreeQuantizer({ dim: 18, bitOrder });
        const fullCodes = full.lookup(ids);
        const subCodes = parts.map((p, k) => new LookupFreeQuantizer({ dim: bits[k], bitOrder }).lookup(p));
        const joined = tf.concat(subCodes, -1);
        expect(Array.from(await joined.data())).toEqual(Array.from(await fullCodes.data()));
        tf.dispose([ids, merged, ...parts, fullCodes, ...subCodes, joined]);
      });
    }
  }
});
