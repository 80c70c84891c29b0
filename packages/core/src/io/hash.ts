/** SHA-256 of bytes, in Node (node:crypto, incremental) and in browsers (Web Crypto). */
import { isNode, nodeModule } from './env';

export interface Hasher {
  update(chunk: Uint8Array): void;
  /** The digest as lower-case hex. */
  digest(): Promise<string>;
}

export async function sha256Hasher(): Promise<Hasher> {
  if (isNode()) {
    const crypto = await nodeModule<typeof import('node:crypto')>('node:crypto');
    const h = crypto.createHash('sha256');
    return { update: (c) => h.update(c), digest: async () => h.digest('hex') };
  }
  const parts: Uint8Array[] = [];
  return {
    update: (c) => parts.push(c.slice()),
    digest: async () => {
      const digest = await crypto.subtle.digest('SHA-256', await new Blob(parts as BlobPart[]).arrayBuffer());
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
  };
}

/** The SHA-256 of `bytes` as lower-case hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const h = await sha256Hasher();
  h.update(bytes);
  return h.digest();
}
