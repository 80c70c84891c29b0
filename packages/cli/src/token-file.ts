/**
 * The `.vtok` token file: the tokens of many images, bit-packed, with a small JSON header naming the
 * tokenizer and the images, and a trailing SHA-256 so a truncated or damaged file is refused instead of
 * decoding into wrong pictures. Layout (all integers little-endian):
 *
 *   0        4 bytes   magic "VTOK"
 *   4        2 bytes   format version (1)
 *   6        4 bytes   header length H
 *   10       H bytes   header, UTF-8 JSON (`TokenFileHeader`)
 *   10+H     count × bytesPerEntry   the tokens, one fixed-size record per image
 *   end-32   32 bytes  SHA-256 of every byte before it
 *
 * A record holds the image's tokens in row-major order of `tokenShape`, each in `bitsPerToken` =
 * ceil(log2(vocabSize)) bits, least significant bit first, packed from bit 0 of the record's first byte on
 * and padded with zero bits to a whole byte: 64 tokens of 256 codes take 64 bytes, 32 of 4096 take 48.
 */
import { nodeModule, saveFile, sha256Hasher } from '@vtok/core';
import { InputError } from './errors';

export const TOKEN_FILE_MAGIC = 'VTOK';
export const TOKEN_FILE_VERSION = 1;
/** Magic, version and header length. */
const PREFIX_BYTES = 10;
const CHECKSUM_BYTES = 32;

/** Where a shard file sits in the whole run (absent in a whole, unsharded or merged, file). */
export interface ShardInfo {
  index: number;
  count: number;
  /** Images in the whole run, over all shards. */
  total: number;
  /** SHA-256 of the whole run's entry names (one per line), so a merge can tell shards of different runs apart. */
  namesSha256: string;
}

export interface TokenFileHeader {
  /** The tokenizer the tokens belong to, as it was named to vtok: a zoo name, a folder, a URL or an `hf:` id. */
  tokenizer: string;
  /** Tokens per image, without batch: `[8, 8]`, `[32]`. */
  tokenShape: number[];
  vocabSize: number;
  /** ceil(log2(vocabSize)), at least 1. */
  bitsPerToken: number;
  /** ceil(tokens per image × bitsPerToken / 8). */
  bytesPerEntry: number;
  /** The images' shape `[H, W, C]`. */
  imageShape: number[];
  count: number;
  /** One name per image, the source file's path relative to what was encoded (forward slashes), so decode can name its outputs. */
  names: string[];
  /** One class label per image, when the images have them. */
  labels?: number[];
  shard?: ShardInfo;
}

/** A whole token file: its header and the tokens of every image, `count × tokens per image` int32 values. */
export interface TokenFile {
  header: TokenFileHeader;
  tokens: Int32Array;
}

/** What a token file describes, before its sizes are derived. */
export type TokenFileDescription = Omit<TokenFileHeader, 'bitsPerToken' | 'bytesPerEntry' | 'count'>;

/** A token file that cannot be read: not one, another version, truncated or corrupt (exit code 3 in the CLI). */
export class TokenFileError extends InputError {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path} is not a usable token file: ${reason}`);
    this.path = path;
  }
}

/** Bits a token of a vocabulary of `vocabSize` codes needs. */
export function bitsPerToken(vocabSize: number): number {
  if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 2 ** 32) {
    throw new RangeError(`vocabSize must be an integer in [1, 2^32], got ${vocabSize}`);
  }
  return Math.max(1, Math.ceil(Math.log2(vocabSize)));
}

export const tokensPerEntry = (tokenShape: readonly number[]): number => tokenShape.reduce((a, b) => a * b, 1);

export const bytesPerEntry = (tokenShape: readonly number[], vocabSize: number): number =>
  Math.ceil((tokensPerEntry(tokenShape) * bitsPerToken(vocabSize)) / 8);

/** The full header for `description` and `count` images (sizes derived, names checked). */
export function tokenFileHeader(description: TokenFileDescription, count: number): TokenFileHeader {
  const header: TokenFileHeader = {
    tokenizer: description.tokenizer,
    tokenShape: [...description.tokenShape],
    vocabSize: description.vocabSize,
    bitsPerToken: bitsPerToken(description.vocabSize),
    bytesPerEntry: bytesPerEntry(description.tokenShape, description.vocabSize),
    imageShape: [...description.imageShape],
    count,
    names: [...description.names],
    ...(description.labels ? { labels: [...description.labels] } : {}),
    ...(description.shard ? { shard: { ...description.shard } } : {}),
  };
  const problem = headerProblem(header);
  if (problem) throw new RangeError(`cannot describe a token file: ${problem}`);
  return header;
}

/**
 * Packs `values` (each in [0, 2^bits)) into `out` from byte `offset` on, `bits` bits each, least
 * significant bit first. `out` must be zero there. Widths 1..32.
 */
export function packBits(values: ArrayLike<number>, bits: number, out: Uint8Array, offset = 0): void {
  checkWidth(bits);
  let bit = offset * 8;
  for (let i = 0; i < values.length; i++) {
    let value = values[i] >>> 0;
    let remaining = bits;
    while (remaining > 0) {
      const shift = bit & 7;
      const take = Math.min(8 - shift, remaining);
      out[bit >>> 3] |= (value & ((1 << take) - 1)) << shift;
      value = value >>> take;
      bit += take;
      remaining -= take;
    }
  }
}

/** Reads `count` values of `bits` bits each from `bytes` at byte `offset` (the inverse of `packBits`) into `out` at `outOffset`. */
export function unpackBits(bytes: Uint8Array, bits: number, count: number, offset = 0, out = new Uint32Array(count), outOffset = 0): Uint32Array {
  checkWidth(bits);
  let bit = offset * 8;
  for (let i = 0; i < count; i++) {
    let value = 0;
    let got = 0;
    while (got < bits) {
      const shift = bit & 7;
      const take = Math.min(8 - shift, bits - got);
      value += ((bytes[bit >>> 3] >>> shift) & ((1 << take) - 1)) * 2 ** got;
      bit += take;
      got += take;
    }
    out[outOffset + i] = value;
  }
  return out;
}

function checkWidth(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new RangeError(`a packed width must be 1..32 bits, got ${bits}`);
}

/**
 * The records of `tokens` (whole images, `tokens per image` values each), packed. Throws a RangeError
 * naming the first token outside the vocabulary.
 */
export function packEntries(header: Pick<TokenFileHeader, 'tokenShape' | 'vocabSize'>, tokens: Int32Array | Uint32Array | number[]): Uint8Array {
  const perEntry = tokensPerEntry(header.tokenShape);
  if (tokens.length % perEntry !== 0) throw new RangeError(`${tokens.length} tokens are not whole images of ${perEntry} tokens`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= header.vocabSize) {
      throw new RangeError(`token ${i} is ${t}, outside the vocabulary [0, ${header.vocabSize})`);
    }
  }
  const bits = bitsPerToken(header.vocabSize);
  const entryBytes = bytesPerEntry(header.tokenShape, header.vocabSize);
  const entries = tokens.length / perEntry;
  const out = new Uint8Array(entries * entryBytes);
  for (let e = 0; e < entries; e++) {
    packBits(tokens.slice(e * perEntry, (e + 1) * perEntry), bits, out, e * entryBytes);
  }
  return out;
}

/** The int32 tokens of `entries` packed records (the inverse of `packEntries`). */
export function unpackEntries(header: Pick<TokenFileHeader, 'tokenShape' | 'vocabSize'>, records: Uint8Array, entries: number): Int32Array {
  const perEntry = tokensPerEntry(header.tokenShape);
  const bits = bitsPerToken(header.vocabSize);
  const entryBytes = bytesPerEntry(header.tokenShape, header.vocabSize);
  const values = new Uint32Array(entries * perEntry);
  for (let e = 0; e < entries; e++) unpackBits(records, bits, perEntry, e * entryBytes, values, e * perEntry);
  return new Int32Array(values.buffer);
}

/** The bytes before the records: magic, version, header length, header. */
export function tokenFilePrefix(header: TokenFileHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(PREFIX_BYTES + json.byteLength);
  prefix.set(new TextEncoder().encode(TOKEN_FILE_MAGIC), 0);
  const view = new DataView(prefix.buffer);
  view.setUint16(4, TOKEN_FILE_VERSION, true);
  view.setUint32(6, json.byteLength, true);
  prefix.set(json, PREFIX_BYTES);
  return prefix;
}

/** The whole file as chunks: prefix, the given records (already packed), the checksum. The records must add up to `count` entries. */
export async function* tokenFileChunks(header: TokenFileHeader, records: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const hasher = await sha256Hasher();
  const prefix = tokenFilePrefix(header);
  hasher.update(prefix);
  yield prefix;
  let recordBytes = 0;
  for await (const chunk of records) {
    hasher.update(chunk);
    recordBytes += chunk.byteLength;
    yield chunk;
  }
  if (recordBytes !== header.count * header.bytesPerEntry) {
    throw new RangeError(`the records hold ${recordBytes} bytes; ${header.count} entries of ${header.bytesPerEntry} bytes need ${header.count * header.bytesPerEntry}`);
  }
  yield hexBytes(await hasher.digest());
}

/** A token file as bytes. */
export async function serializeTokenFile(file: TokenFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of tokenFileChunks(file.header, [packEntries(file.header, file.tokens)])) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Writes `file` to `path` atomically (core's `saveFile`): the path holds the old file or the whole new one. */
export async function writeTokenFile(path: string, file: TokenFile): Promise<void> {
  await saveFile(path, { chunks: tokenFileChunks(file.header, [packEntries(file.header, file.tokens)]) });
}

/** Reads and checks a token file (Node). A missing file, a damaged or truncated one, or another format is a `TokenFileError`. */
export async function readTokenFile(path: string): Promise<TokenFile> {
  // Imported at run time so that browsers, which parse token files from bytes, never bundle node:fs.
  const fs = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(path));
  } catch (error) {
    throw new TokenFileError(path, (error as { code?: string }).code === 'ENOENT' ? 'there is no such file' : (error as Error).message);
  }
  return parseTokenFile(bytes, path);
}

/** Parses and checks the bytes of a token file; `where` names it in errors. */
export async function parseTokenFile(bytes: Uint8Array, where: string): Promise<TokenFile> {
  const fail = (reason: string) => new TokenFileError(where, reason);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (bytes.byteLength < 4 || magic !== TOKEN_FILE_MAGIC) throw fail(`it does not start with "${TOKEN_FILE_MAGIC}" (a .vtok file written by vtok encode)`);
  if (bytes.byteLength < PREFIX_BYTES + CHECKSUM_BYTES) throw fail(`it is truncated: ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== TOKEN_FILE_VERSION) throw fail(`it is format version ${version}; this vtok reads version ${TOKEN_FILE_VERSION}`);
  const headerLength = view.getUint32(6, true);
  let header: TokenFileHeader | undefined;
  if (PREFIX_BYTES + headerLength <= bytes.byteLength) {
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength))) as TokenFileHeader;
    } catch {
      header = undefined;
    }
  }
  // The size the header promises, when it can be read, says "truncated" more plainly than a checksum.
  const expected = header && headerProblem(header) === undefined ? PREFIX_BYTES + headerLength + header.count * header.bytesPerEntry + CHECKSUM_BYTES : undefined;
  if (expected !== undefined && expected !== bytes.byteLength) {
    throw fail(`it is ${bytes.byteLength} bytes but its header promises ${expected} (${header!.count} images of ${header!.bytesPerEntry} bytes): ${bytes.byteLength < expected ? 'truncated' : 'extra bytes at the end'}`);
  }
  const body = bytes.subarray(0, bytes.byteLength - CHECKSUM_BYTES);
  const stored = bytes.subarray(bytes.byteLength - CHECKSUM_BYTES);
  const hasher = await sha256Hasher();
  hasher.update(body);
  const actual = hexBytes(await hasher.digest());
  if (!actual.every((b, i) => b === stored[i])) throw fail('its SHA-256 checksum does not match its content (the file is damaged)');
  if (!header) throw fail('its header is not valid JSON');
  const problem = headerProblem(header);
  if (problem) throw fail(`its header is inconsistent: ${problem}`);
  const records = bytes.subarray(PREFIX_BYTES + headerLength, bytes.byteLength - CHECKSUM_BYTES);
  const tokens = unpackEntries(header, records, header.count);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= header.vocabSize) throw fail(`token ${i} is ${tokens[i]}, outside the vocabulary [0, ${header.vocabSize})`);
  }
  return { header, tokens };
}

/** What is wrong with a header, or undefined when it is consistent. */
export function headerProblem(h: TokenFileHeader): string | undefined {
  const isShape = (s: unknown, rank?: number) => Array.isArray(s) && s.length > 0 && (rank === undefined || s.length === rank) && s.every((d) => Number.isInteger(d) && d > 0);
  if (typeof h !== 'object' || h === null) return 'it is not an object';
  if (typeof h.tokenizer !== 'string' || !h.tokenizer) return 'tokenizer must name the tokenizer';
  if (!isShape(h.tokenShape)) return `tokenShape must be positive integers, got ${JSON.stringify(h.tokenShape)}`;
  if (!Number.isInteger(h.vocabSize) || h.vocabSize < 1 || h.vocabSize > 2 ** 31) return `vocabSize must be an integer in [1, 2^31], got ${JSON.stringify(h.vocabSize)}`;
  if (h.bitsPerToken !== bitsPerToken(h.vocabSize)) return `bitsPerToken is ${h.bitsPerToken}; a vocabulary of ${h.vocabSize} needs ${bitsPerToken(h.vocabSize)}`;
  if (h.bytesPerEntry !== bytesPerEntry(h.tokenShape, h.vocabSize)) return `bytesPerEntry is ${h.bytesPerEntry}; ${tokensPerEntry(h.tokenShape)} tokens of ${h.bitsPerToken} bits need ${bytesPerEntry(h.tokenShape, h.vocabSize)}`;
  if (!isShape(h.imageShape, 3)) return `imageShape must be [H, W, C], got ${JSON.stringify(h.imageShape)}`;
  if (!Number.isInteger(h.count) || h.count < 0) return `count must be a whole number, got ${JSON.stringify(h.count)}`;
  if (!Array.isArray(h.names) || h.names.length !== h.count || !h.names.every((n) => typeof n === 'string' && n)) return `names must be ${h.count} non-empty strings`;
  if (h.labels !== undefined && (!Array.isArray(h.labels) || h.labels.length !== h.count || !h.labels.every((l) => Number.isInteger(l) && l >= 0))) {
    return `labels must be ${h.count} whole numbers`;
  }
  if (h.shard !== undefined) {
    const s = h.shard;
    if (!Number.isInteger(s.count) || s.count < 1 || !Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) return `shard ${JSON.stringify(s)} must have 0 <= index < count`;
    if (!Number.isInteger(s.total) || s.total < h.count || typeof s.namesSha256 !== 'string') return `shard ${JSON.stringify(s)} must have a total of at least ${h.count} and namesSha256`;
  }
  return undefined;
}

/** The `--json` form of a token file: tokens of each image as a flat row-major list of `shape`. */
export function tokenFileJson(file: TokenFile): {
  tokenizer: string;
  shape: number[];
  vocabSize: number;
  bitsPerToken: number;
  bytesPerImage: number;
  imageShape: number[];
  entries: { name: string; label?: number; tokens: number[] }[];
} {
  const { header } = file;
  const per = tokensPerEntry(header.tokenShape);
  return {
    tokenizer: header.tokenizer,
    shape: header.tokenShape,
    vocabSize: header.vocabSize,
    bitsPerToken: header.bitsPerToken,
    bytesPerImage: header.bytesPerEntry,
    imageShape: header.imageShape,
    entries: header.names.map((name, i) => ({
      name,
      ...(header.labels ? { label: header.labels[i] } : {}),
      tokens: Array.from(file.tokens.subarray(i * per, (i + 1) * per)),
    })),
  };
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
