/**
 * The .vtok token file: bit packing at every width, the stated bytes per image, a round trip through
 * disk, and the damage a reader must refuse (flipped byte, truncation, another format) as a TokenFileError.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/exit-codes';
import {
  bitsPerToken,
  bytesPerEntry,
  packBits,
  parseTokenFile,
  readTokenFile,
  serializeTokenFile,
  tokenFileHeader,
  tokenFileJson,
  TokenFileError,
  unpackBits,
  writeTokenFile,
  type TokenFile,
} from '../src/token-file';

const temp = mkdtempSync(join(tmpdir(), 'vtok-token-file-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A deterministic pseudo-random file of `count` images. */
function sampleFile(count: number, vocabSize = 256, tokenShape = [8, 8]): TokenFile {
  const per = tokenShape.reduce((a, b) => a * b, 1);
  const tokens = new Int32Array(count * per);
  let s = 12345;
  for (let i = 0; i < tokens.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    tokens[i] = s % vocabSize;
  }
  tokens[0] = vocabSize - 1;
  const names = Array.from({ length: count }, (_, i) => `digits/${String(i).padStart(3, '0')}.png`);
  return { header: tokenFileHeader({ tokenizer: 'digits-vqgan', tokenShape, vocabSize, imageShape: [32, 32, 3], names, labels: names.map((_, i) => i % 10) }, count), tokens };
}

describe('bit packing', () => {
  it('packs and unpacks every width 1..32, least significant bit first', () => {
    for (let bits = 1; bits <= 32; bits++) {
      const max = 2 ** bits - 1;
      const values = [0, max, 1, Math.floor(max / 3), max, 0, Math.floor(max / 2), 1];
      const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
      packBits(values, bits, out);
      expect(Array.from(unpackBits(out, bits, values.length)), `${bits} bits`).toEqual(values);
    }
    const out = new Uint8Array(2);
    packBits([1, 2, 3], 4, out);
    expect(Array.from(out)).toEqual([0x21, 0x03]);
    expect(() => packBits([1], 33, new Uint8Array(5))).toThrow(/1\.\.32 bits/);
  });

  it('states the bits and bytes per image: 64 tokens of 256 codes in 64 bytes, 32 of 4096 in 48', () => {
    expect([bitsPerToken(1), bitsPerToken(2), bitsPerToken(256), bitsPerToken(257), bitsPerToken(4096), bitsPerToken(2 ** 18)]).toEqual([1, 1, 8, 9, 12, 18]);
    expect(bytesPerEntry([8, 8], 256)).toBe(64);
    expect(bytesPerEntry([32], 4096)).toBe(48);
    expect(bytesPerEntry([5], 3)).toBe(2);
  });
});

describe('token files', () => {
  it('round-trips through disk with the stated size: prefix + header + count × bytesPerEntry + 32', async () => {
    for (const [vocab, shape] of [
      [256, [8, 8]],
      [4096, [32]],
      [2 ** 18, [4, 4]],
      [3, [5]],
    ] as const) {
      const file = sampleFile(7, vocab, [...shape]);
      const path = join(temp, `round-${vocab}.vtok`);
      await writeTokenFile(path, file);
      const bytes = readFileSync(path);
      const headerLength = bytes.readUInt32LE(6);
      expect(bytes.byteLength).toBe(10 + headerLength + 7 * file.header.bytesPerEntry + 32);
      expect(Buffer.from(await serializeTokenFile(file)).equals(bytes)).toBe(true);
      const back = await readTokenFile(path);
      expect(back.header).toEqual(file.header);
      expect(Array.from(back.tokens)).toEqual(Array.from(file.tokens));
    }
  });

  it('has a JSON form with names, labels and flat tokens', () => {
    const file = sampleFile(2);
    const json = tokenFileJson(file);
    expect(json).toMatchObject({ tokenizer: 'digits-vqgan', shape: [8, 8], vocabSize: 256, bitsPerToken: 8, bytesPerImage: 64 });
    expect(json.entries[1]).toEqual({ name: 'digits/001.png', label: 1, tokens: Array.from(file.tokens.subarray(64, 128)) });
  });

  it('refuses a flipped byte, a truncated file, extra bytes, another format and a missing file with a TokenFileError (exit 3)', async () => {
    const good = await serializeTokenFile(sampleFile(5));
    const expectRefused = async (bytes: Uint8Array, message: RegExp) => {
      const error = await parseTokenFile(bytes, 'x.vtok').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenFileError);
      expect((error as TokenFileError).exitCode).toBe(ExitCode.Input);
      expect((error as Error).message).toMatch(message);
    };
    for (const at of [5, 20, good.byteLength - 100, good.byteLength - 1]) {
      const flipped = good.slice();
      flipped[at] ^= 0x10;
      await expectRefused(flipped, at === 5 ? /format version/ : /x\.vtok is not a usable token file: .*(checksum does not match|header)/);
    }
    await expectRefused(good.slice(0, good.byteLength - 10), /truncated/);
    await expectRefused(good.slice(0, 30), /truncated|checksum/);
    await expectRefused(new Uint8Array([...good, 0]), /extra bytes/);
    await expectRefused(new TextEncoder().encode('\x89PNG not tokens at all, not at all'), /does not start with "VTOK"/);
    writeFileSync(join(temp, 'empty.vtok'), '');
    await expect(readTokenFile(join(temp, 'empty.vtok'))).rejects.toThrow(TokenFileError);
    await expect(readTokenFile(join(temp, 'absent.vtok'))).rejects.toThrow(/absent\.vtok is not a usable token file: there is no such file/);
  });

  it('refuses tokens outside the vocabulary when writing', async () => {
    const file = sampleFile(1);
    file.tokens[3] = 256;
    await expect(serializeTokenFile(file)).rejects.toThrow(/token 3 is 256, outside the vocabulary \[0, 256\)/);
  });
});
