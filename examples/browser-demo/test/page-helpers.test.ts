// The page's pure helpers, without a browser: the token grid's layout and the backend named in the address.
import { ValueError } from '@vtok/core';
import { describe, expect, it } from 'vitest';
import { parseBackendChoice } from '../src/backend';
import { gridColumns, tokenGrid } from '../src/images';

describe('token grid', () => {
  it('lays a 2D token shape out by its last axis and a square sequence as a square', () => {
    expect(gridColumns([8, 8])).toBe(8);
    expect(gridColumns([4, 16])).toBe(16);
    expect(gridColumns([64])).toBe(8);
    expect(gridColumns([32])).toBe(32);
  });

  it('writes one row per line, ids right-aligned, · where a token is masked', () => {
    expect(tokenGrid([0, 255, 256, 7], 2, 256)).toBe('  0 255\n  ·   7');
    expect(tokenGrid(Int32Array.from([1, 2, 3]), 3)).toBe('  1   2   3');
  });
});

describe('backend in the page address', () => {
  it('defaults to auto and takes the three names', () => {
    expect(parseBackendChoice(null)).toBe('auto');
    expect(parseBackendChoice('')).toBe('auto');
    for (const name of ['auto', 'webgpu', 'wasm'] as const) expect(parseBackendChoice(name)).toBe(name);
  });

  it('refuses another name with a ValueError listing the choices', () => {
    expect(() => parseBackendChoice('cuda')).toThrow(ValueError);
    expect(() => parseBackendChoice('cuda')).toThrow('unknown backend "cuda" in the page address (?backend=): expected one of auto, webgpu, wasm');
  });
});
