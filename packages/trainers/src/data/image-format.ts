/** Which image format a file's first bytes announce; names and extensions are not trusted. */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** How many leading bytes `sniffImageFormat` needs. */
export const IMAGE_HEAD_BYTES = 12;

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0) => bytes.every((b, i) => head[at + i] === b);

export function sniffImageFormat(head: Uint8Array): ImageFormat | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  // RIFF <size> WEBP
  if (startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return undefined;
}

/** The first bytes, for messages: "68 65 6c 6c 6f". */
export const describeHead = (head: Uint8Array): string => (head.length ? [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ') : 'empty');
