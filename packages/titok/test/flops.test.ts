import { describe, expect, it } from 'vitest';
import { convFlops, parseOfficialConfig, pixelDecoderFlops, titokFlops, titokPreset, transformerBlockFlops } from '../src';

describe('FLOP counts', () => {
  it('a transformer block, by hand', () => {
    // n = 3 tokens, d = 2: qkv 2·3·2·6 = 72, scores 2·3·3·2 = 36, mix 36, out 2·3·2·2 = 24, mlp 2·(2·3·2·8) = 192.
    expect(transformerBlockFlops(3, 2)).toBe(72 + 36 + 36 + 24 + 192);
  });

  it('a conv, by hand', () => {
    expect(convFlops(4, 5, 3, 7, 3)).toBe(2 * 4 * 5 * 3 * 7 * 9);
  });

  it('a two-level pixel decoder, by hand', () => {
    // h 32, mult [1, 2], 1 res block, z 16, latent 4×4 → output 8×8.
    const g = 4;
    const conv = (hw: number, cin: number, cout: number, k: number) => 2 * hw * hw * cin * cout * k * k;
    const expected =
      conv(g, 16, 64, 3) + // conv_in to 64
      conv(g, 64, 64, 3) * 2 + // mid block
      conv(g, 64, 64, 3) * 2 + // up.1 block (64 → 64)
      conv(2 * g, 64, 64, 3) + // up.1 upsample conv at 8×8
      conv(2 * g, 64, 32, 3) + conv(2 * g, 32, 32, 3) + conv(2 * g, 32, 32, 1) + // up.0 block 64 → 32, nin_shortcut
      conv(2 * g, 32, 3, 3); // conv_out
    expect(pixelDecoderFlops({ hiddenChannels: 32, channelMult: [1, 2], numResBlocks: 1, zChannels: 16 }, g)).toBe(expected);
  });

  it('matches the PyTorch figures of the issue: images/s × GFLOP per image = 110-137 GFLOP/s', () => {
    // Batch 8, 2 threads: encode / decode images per second as the issue reports them.
    const pytorch = { 'titok-s-128': [5.6, 0.52], 'titok-b-64': [2.1, 0.57], 'titok-l-32': [0.75, 0.3] } as const;
    for (const [name, [enc, dec]] of Object.entries(pytorch)) {
      const f = titokFlops(parseOfficialConfig(titokPreset(name).config));
      for (const rate of [(enc * f.encode) / 1e9, (dec * f.decode) / 1e9]) {
        expect(rate, name).toBeGreaterThan(105);
        expect(rate, name).toBeLessThan(142);
      }
    }
  });

  it('TiTok-L-32 at its real size: encoder, quantizer, decoder parts add up', () => {
    const c = parseOfficialConfig(titokPreset('titok-l-32').config);
    const f = titokFlops(c);
    const n = 1 + 256 + 32;
    const encode = 2 * 256 * 3 * 1024 * 256 + 24 * transformerBlockFlops(n, 1024) + 2 * 32 * 1024 * 12 + 2 * 32 * 12 * 4096;
    expect(f.encode).toBe(encode);
    const head = 2 * 256 * 1024 * 2048 + 2 * 256 * 2048 * 1024 + 2 * 256 * 1024 * 256;
    expect(f.decodeParts.head).toBe(head);
    expect(f.decodeParts.transformer).toBe(2 * 32 * 12 * 1024 + 24 * transformerBlockFlops(n, 1024));
    expect(f.decode).toBe(f.decodeParts.transformer + head + f.decodeParts.pixelDecoder);
    // The MaskGIT-VQGAN decoder is half of L-32's decode and 89% of S-128's (whose ViT is small).
    expect(f.decodeParts.pixelDecoder / f.decode).toBeCloseTo(0.502, 3);
    const s = titokFlops(parseOfficialConfig(titokPreset('titok-s-128').config));
    expect(s.decodeParts.pixelDecoder / s.decode).toBeCloseTo(0.891, 3);
    expect(f.decodeParts.pixelDecoder).toBe(pixelDecoderFlops(c.pixelDecoder!, 16));
  });

  it('a single-stage model has the pixel head instead', () => {
    const c = parseOfficialConfig(titokPreset('titok-bl-64-vq').config);
    const f = titokFlops(c);
    expect(f.decodeParts.pixelDecoder).toBe(0);
    expect(f.decodeParts.head).toBe(2 * 256 * 1024 * 768 + 2 * 256 * 256 * 3 * 3 * 9);
  });
});
