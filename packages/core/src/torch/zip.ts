/**
 * A zip reader for the archives torch.save writes: entries are found through the central directory
 * (PyTorch's writer puts zero sizes in the local headers and data descriptors after the data), zip64
 * records are honoured, entries are stored uncompressed. Every offset and length is checked against the
 * buffer before it is used; CRC-32 is verified for the entries that are read.
 */
import { TorchCheckpointError } from '../errors';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate, ... */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Where the entry's data start in the archive. */
  dataOffset: number;
}

let crcTables: Int32Array | undefined;

/** Eight 256-entry tables for slicing-by-8: table k advances the CRC over a byte followed by k zero bytes. */
function tables(): Int32Array {
  if (!crcTables) {
    const t = new Int32Array(8 * 256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c;
    }
    for (let n = 0; n < 256; n++) {
      for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
    }
    crcTables = t;
  }
  return crcTables;
}

/** CRC-32 (IEEE 802.3, as zip uses) of `bytes`, eight bytes per step (checkpoints are large). */
export function crc32(bytes: Uint8Array): number {
  const t = tables();
  let c = -1;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function fail(message: string): never {
  throw new TorchCheckpointError(`bad zip archive: ${message}`);
}

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(at: number, length: number, what: string): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + length > this.bytes.length) {
      fail(`${what} at byte ${at} (${length} bytes) lies outside the file of ${this.bytes.length} bytes; the file is truncated or corrupt`);
    }
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  /** A 64-bit length or offset; anything above 2^53 cannot be inside a buffer anyway. */
  u64(at: number, what: string): number {
    const value = this.view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is ${value}, larger than any file this reader can hold`);
    return Number(value);
  }
}

/** Finds the end-of-central-directory record: the last signature whose comment ends exactly at the end. */
function findEnd(r: Reader): number {
  const n = r.bytes.length;
  if (n < 22) fail(`the file has ${n} bytes, fewer than the 22 of an empty zip archive`);
  const lowest = Math.max(0, n - 22 - 0xffff);
  for (let at = n - 22; at >= lowest; at--) {
    if (r.u32(at) === END_OF_CENTRAL_DIRECTORY && at + 22 + r.u16(at + 20) === n) return at;
  }
  return fail('no end-of-central-directory record at the end of the file; it is truncated or not a zip archive');
}

interface Directory {
  offset: number;
  size: number;
  count: number;
  /** Where the central directory must end (the zip64 or plain end record). */
  limit: number;
}

function readDirectoryLocation(r: Reader, end: number): Directory {
  if (r.u16(end + 4) !== 0 || r.u16(end + 6) !== 0) fail('multi-disk (split) archives are not supported');
  let count = r.u16(end + 10);
  let size = r.u32(end + 12);
  let offset = r.u32(end + 16);
  let limit = end;
  const locator = end - 20;
  if (locator >= 0 && r.u32(locator) === ZIP64_LOCATOR) {
    const at = r.u64(locator + 8, 'the zip64 end record offset');
    r.check(at, 56, 'the zip64 end-of-central-directory record');
    if (at > locator - 56 || r.u32(at) !== ZIP64_END) fail(`no zip64 end-of-central-directory record at byte ${at}`);
    count = r.u64(at + 32, 'the zip64 entry count');
    size = r.u64(at + 40, 'the zip64 central directory size');
    offset = r.u64(at + 48, 'the zip64 central directory offset');
    limit = at;
  } else if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    fail('the end record asks for zip64 values but there is no zip64 locator');
  }
  if (offset + size > limit) fail(`the central directory (${size} bytes at ${offset}) overlaps the end record at ${limit}`);
  if (count * 46 > size) fail(`${count} entries cannot fit in a central directory of ${size} bytes`);
  return { offset, size, count, limit };
}

/** Values of the zip64 extra field (id 1) that replace 0xffffffff fields, in their fixed order. */
function applyZip64(r: Reader, at: number, length: number, entry: { size: number; compressedSize: number; localOffset: number }, name: string): void {
  const end = at + length;
  while (at + 4 <= end) {
    const id = r.u16(at);
    const size = r.u16(at + 2);
    const body = at + 4;
    if (body + size > end) fail(`entry "${name}": an extra field runs past its header`);
    if (id === 1) {
      let p = body;
      const take = (what: string): number => {
        if (p + 8 > body + size) fail(`entry "${name}": the zip64 extra field is too short for the ${what}`);
        const v = r.u64(p, `entry "${name}" ${what}`);
        p += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = take('size');
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = take('compressed size');
      if (entry.localOffset === 0xffffffff) entry.localOffset = take('local header offset');
    }
    at = body + size;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

function decodeName(bytes: Uint8Array, flags: number): string {
  if (flags & 0x800) {
    try {
      return utf8.decode(bytes);
    } catch {
      fail('an entry name is not valid UTF-8');
    }
  }
  return latin1.decode(bytes);
}

/** The entries of a zip archive, by name. */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly reader: Reader;

  constructor(bytes: Uint8Array) {
    const r = new Reader(bytes);
    this.reader = r;
    const dir = readDirectoryLocation(r, findEnd(r));
    let at = dir.offset;
    const stop = dir.offset + dir.size;
    for (let i = 0; i < dir.count; i++) {
      if (at + 46 > stop || r.u32(at) !== CENTRAL_HEADER) fail(`central directory entry ${i} at byte ${at} is missing or damaged`);
      const flags = r.u16(at + 8);
      const method = r.u16(at + 10);
      const crc = r.u32(at + 16);
      const nameLength = r.u16(at + 28);
      const extraLength = r.u16(at + 30);
      const commentLength = r.u16(at + 32);
      const next = at + 46 + nameLength + extraLength + commentLength;
      if (next > stop) fail(`central directory entry ${i} runs past the directory`);
      const name = decodeName(bytes.subarray(at + 46, at + 46 + nameLength), flags);
      const sizes = { compressedSize: r.u32(at + 20), size: r.u32(at + 24), localOffset: r.u32(at + 42) };
      applyZip64(r, at + 46 + nameLength, extraLength, sizes, name);
      if (flags & 1) fail(`entry "${name}" is encrypted`);
      if (this.entries.has(name)) fail(`two entries are named "${name}"`);
      // The data start after the local header, whose name and extra lengths may differ from the central ones.
      const local = sizes.localOffset;
      r.check(local, 30, `the local header of "${name}"`);
      if (r.u32(local) !== LOCAL_HEADER) fail(`entry "${name}": no local header at byte ${local}`);
      const dataOffset = local + 30 + r.u16(local + 26) + r.u16(local + 28);
      if (dataOffset + sizes.compressedSize > dir.offset) {
        fail(`entry "${name}" (${sizes.compressedSize} bytes at ${dataOffset}) runs into the central directory at ${dir.offset}`);
      }
      this.entries.set(name, { name, method, flags, crc32: crc, compressedSize: sizes.compressedSize, size: sizes.size, dataOffset });
      at = next;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * The bytes of a stored entry (a view into the archive). `verify` checks the CRC-32. A compressed
   * entry is an error: torch.save never compresses, so such an archive was repacked by another tool.
   */
  read(name: string, verify: boolean): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new TorchCheckpointError(`the archive has no entry "${name}"`);
    if (entry.method !== 0) {
      const method = entry.method === 8 ? 'deflate' : `method ${entry.method}`;
      throw new TorchCheckpointError(
        `entry "${name}" is compressed (${method}); torch.save writes uncompressed (stored) entries only, so this archive ` +
          'was repacked by another tool. Unzip it and re-zip it with no compression (zip -0), or re-save it with torch.save',
      );
    }
    if (entry.size !== entry.compressedSize) fail(`stored entry "${name}" has size ${entry.size} but ${entry.compressedSize} bytes of data`);
    const data = this.reader.bytes.subarray(entry.dataOffset, entry.dataOffset + entry.size);
    if (verify && crc32(data) !== entry.crc32) {
      throw new TorchCheckpointError(`entry "${name}" is corrupt: its CRC-32 does not match the one recorded in the archive`);
    }
    return data;
  }
}
