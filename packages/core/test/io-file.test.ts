// peek: the first bytes for sniffing, then the whole file again, whatever the source knows of its size.
import { describe, expect, it } from 'vitest';
import { fileFromBytes } from '../src';
import { fileFromStream, peek } from '../src/io/file';

const content = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 251);

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

describe('peek', () => {
  it('gives the head, then the whole file from bytes (size known)', async () => {
    const { head, file } = await peek(fileFromBytes(content, 'x'), 9);
    expect(Array.from(head)).toEqual(Array.from(content.subarray(0, 9)));
    expect(Array.from(await file.bytes())).toEqual(Array.from(content));
  });

  it('gives the whole file from a stream of unknown size, and of a size announced too small', async () => {
    for (const size of [undefined, 100]) {
      const { file } = await peek(fileFromStream(streamOf(content, 333), 'y', size), 9);
      expect(Array.from(await file.bytes()), `size ${size}`).toEqual(Array.from(content));
    }
  });
});
