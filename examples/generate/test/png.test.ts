// The PNG writer: a valid signature and chunk layout, CRCs that check, and pixels that inflate back.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng } from '../src/png';

describe('encodePng', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('writes IHDR, IDAT and IEND with checked CRCs and the clamped 8-bit pixels', () => {
    const width = 3;
    const height = 2;
    const pixels = [0, 0.5, 1, -1, 2, Number.NaN, 0.25, 0.75, 1, 0, 0, 0, 1, 1, 1, 0.2, 0.4, 0.6];
    const png = encodePng(pixels, width, height);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset);
    const chunks: { type: string; data: Uint8Array }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = view.getUint32(at);
      const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
      const data = png.subarray(at + 8, at + 8 + length);
      expect(view.getUint32(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
      chunks.push({ type, data });
      at += 12 + length;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const header = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset);
    expect([header.getUint32(0), header.getUint32(4), ...chunks[0]!.data.subarray(8)]).toEqual([3, 2, 8, 2, 0, 0, 0]);
    const raw = inflateSync(chunks[1]!.data);
    expect(Array.from(raw)).toEqual([0, 0, 128, 255, 0, 255, 0, 64, 191, 255, 0, 0, 0, 0, 255, 255, 255, 51, 102, 153]);
  });

  it('refuses a pixel count that does not match the size', () => {
    expect(() => encodePng([0, 0, 0], 2, 2)).toThrow(/expected 2×2×3 = 12 values, got 3/);
  });
});
