/**
 * A pickle virtual machine that only builds data. It reads the opcodes of protocols 0-5 that plain
 * data and torch.save use; every reference to a Python global goes through `hooks.findGlobal` (the
 * allow-list), every call through `hooks.call`, and nothing is ever executed. Malformed input ends in a
 * TorchCheckpointError naming the byte offset and opcode; the machine's work is linear in the input.
 */
import { TorchCheckpointError } from '../errors';
import { describeValue, TorchStorage, TorchTensor } from './tensor';

/** A Python global the allow-list knows (a storage type, a rebuild function, ...), as a value. */
export class PickleGlobal {
  readonly module: string;
  readonly name: string;
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An object of a class outside the allow-list, read with `unknownGlobals: 'opaque'`: the class's name,
 * the arguments the pickle would have passed to it and the state it would have set. Nothing was called.
 */
export class PickledObject {
  readonly module: string;
  readonly name: string;
  readonly args: PickleValue[];
  state: PickleValue | undefined;
  constructor(module: string, name: string, args: PickleValue[]) {
    this.module = module;
    this.name = name;
    this.args = args;
  }
}

/**
 * What a pickle reads into. Python dicts become null-prototype objects (keys as strings: the int 3 becomes
 * "3"), tuples and lists arrays, sets `Set`s, bytes `Uint8Array`s, ints numbers (bigint beyond 2^53),
 * None null; tensors are TorchTensors.
 */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleDict
  | Set<PickleValue>
  | TorchTensor
  | TorchStorage
  | PickleGlobal
  | PickledObject;
export interface PickleDict {
  [key: string]: PickleValue;
}

/** True for a dict read from a pickle (a null-prototype object). */
export function isPickleDict(value: unknown): value is PickleDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === null;
}

export interface PickleHooks {
  /** Resolves GLOBAL / STACK_GLOBAL / INST; throws for anything not allowed. */
  findGlobal(module: string, name: string): PickleValue;
  /** REDUCE, NEWOBJ, INST and OBJ: `callable(*args)`; throws for anything that cannot be called. */
  call(callable: PickleValue, args: PickleValue[], isNew: boolean): PickleValue;
  /** BUILD: sets `state` on `target` (or ignores it where that is harmless); throws otherwise. */
  build(target: PickleValue, state: PickleValue): void;
  /** BINPERSID / PERSID. */
  persistentLoad(pid: PickleValue): PickleValue;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const ascii = new TextDecoder('latin1');

/** Python's key for a dict entry, as a JS property name; `kind` tells keys of different types apart. */
function dictKey(key: unknown): { text: string; kind: string } | undefined {
  if (typeof key === 'string') return { text: key, kind: 'str' };
  if (typeof key === 'number' || typeof key === 'bigint') return { text: String(key), kind: 'number' };
  if (typeof key === 'boolean') return { text: key ? 'True' : 'False', kind: 'bool' };
  if (key === null) return { text: 'None', kind: 'None' };
  if (key instanceof Uint8Array) return { text: ascii.decode(key), kind: 'bytes' };
  if (Array.isArray(key)) {
    const parts: string[] = [];
    for (const item of key) {
      const k = dictKey(item);
      if (!k) return undefined;
      parts.push(k.kind === 'str' ? JSON.stringify(k.text) : k.text);
    }
    return { text: `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`, kind: 'tuple' };
  }
  return undefined;
}

/** LONG1 / LONG4 payload: little-endian two's complement. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return shrink(value);
}

function shrink(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Errors that already name their pickle and position. */
const positioned = new WeakSet<Error>();

export interface UnpickleResult {
  value: PickleValue;
  /** The offset just after STOP. */
  end: number;
}

/**
 * Runs the pickle starting at `start` in `bytes` until its STOP. `where` names it in error messages
 * ("model/data.pkl").
 */
export function unpickle(bytes: Uint8Array, start: number, hooks: PickleHooks, where: string): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let opAt = start;
  let op = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const keyKinds = new WeakMap<object, Map<string, string>>();

  const error = (message: string): never => {
    const e = new TorchCheckpointError(`${where}: ${message} (opcode ${OPCODE_NAMES[op] ?? `0x${op.toString(16)}`} at byte ${opAt})`);
    positioned.add(e);
    throw e;
  };
  const take = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) {
      error(`the pickle is truncated: ${n} more bytes needed, ${Math.max(0, bytes.length - pos)} left`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const readBytes = (n: number): Uint8Array => {
    const at = take(n);
    return bytes.subarray(at, at + n);
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) error('the pickle is truncated: a text argument has no end of line');
    const line = ascii.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return line;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return error('a string is not valid UTF-8');
    }
  };
  const u64 = (): number => {
    const at = take(8);
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) error(`a length of ${v} bytes`);
    return Number(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) error('the stack is empty');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) error('the stack is empty');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = metastack.pop();
    if (!previous) error('no MARK to pop to');
    stack = previous as unknown[];
    return items;
  };
  const setItem = (dict: unknown, key: unknown, value: unknown): void => {
    if (!isPickleDict(dict)) error(`cannot set a dict item on ${describeValue(dict)}`);
    const k = dictKey(key);
    if (!k) return error(`${describeValue(key)} cannot be a dict key here`);
    const d = dict as PickleDict;
    let kinds = keyKinds.get(d);
    const before = Object.prototype.hasOwnProperty.call(d, k.text) ? (kinds?.get(k.text) ?? 'str') : undefined;
    if (before !== undefined && before !== k.kind) error(`the dict has both a ${before} key and a ${k.kind} key written "${k.text}"`);
    if (k.kind !== 'str') {
      if (!kinds) keyKinds.set(d, (kinds = new Map()));
      kinds.set(k.text, k.kind);
    }
    d[k.text] = value as PickleValue;
  };
  const append = (list: unknown, items: unknown[]): void => {
    if (Array.isArray(list)) {
      for (const item of items) list.push(item);
    } else if (list instanceof Set) {
      for (const item of items) list.add(item as PickleValue);
    } else error(`cannot append to ${describeValue(list)}`);
  };
  const put = (index: number): void => {
    memo.set(index, top());
  };
  const get = (index: number): void => {
    if (!memo.has(index)) error(`memo entry ${index} was never stored`);
    stack.push(memo.get(index));
  };
  /** Runs a hook; its TorchCheckpointErrors get this pickle's name and the opcode's position. */
  const hook = <T>(run: () => T): T => {
    try {
      return run();
    } catch (e) {
      if (e instanceof TorchCheckpointError && !positioned.has(e)) return error(e.message);
      throw e;
    }
  };
  const call = (callable: unknown, args: unknown, isNew: boolean): unknown => {
    if (!Array.isArray(args)) error(`the arguments must be a tuple, got ${describeValue(args)}`);
    return hook(() => hooks.call(callable as PickleValue, args as PickleValue[], isNew));
  };
  const global = (module: string, name: string): PickleValue => hook(() => hooks.findGlobal(module, name));
  const int = (value: string): number | bigint => {
    if (!/^[+-]?\d+$/.test(value)) error(`"${value.slice(0, 40)}" is not an integer`);
    return shrink(BigInt(value));
  };

  for (;;) {
    opAt = pos;
    op = bytes[take(1)];
    switch (op) {
      case 0x80: // PROTO
        if (bytes[take(1)] > 5) error(`pickle protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME: framing only groups opcodes; the length is not needed to read them
        take(8);
        break;
      case 0x2e: {
        // STOP
        const value = pop();
        if (stack.length !== 0 || metastack.length !== 0) error(`${stack.length} values are left on the stack at STOP`);
        return { value: value as PickleValue, end: pos };
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(take(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[take(1)]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(take(2), true));
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(readBytes(bytes[take(1)])));
        break;
      case 0x8b: {
        // LONG4
        const n = view.getInt32(take(4), true);
        if (n < 0) error(`a negative length ${n}`);
        stack.push(decodeLong(readBytes(n)));
        break;
      }
      case 0x49: {
        // INT (text): "01" / "00" are protocol 0's True / False
        const line = readLine();
        stack.push(line === '01' ? true : line === '00' ? false : int(line));
        break;
      }
      case 0x4c: // LONG (text), with Python 2's trailing L
        stack.push(int(readLine().replace(/L$/, '')));
        break;
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(take(8), false));
        break;
      case 0x46: {
        // FLOAT (text)
        const line = readLine().trim();
        const value = Number(line);
        if (line === '' || (Number.isNaN(value) && !/^[+-]?nan$/i.test(line))) error(`"${line.slice(0, 40)}" is not a float`);
        stack.push(value);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(readBytes(view.getUint32(take(4), true))));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(readBytes(bytes[take(1)])));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(readBytes(u64())));
        break;
      case 0x54: {
        // BINSTRING: a Python 2 str; torch.load decodes these as UTF-8
        const n = view.getInt32(take(4), true);
        if (n < 0) error(`a negative length ${n}`);
        stack.push(text(readBytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(text(readBytes(bytes[take(1)])));
        break;
      case 0x42: // BINBYTES
        stack.push(readBytes(view.getUint32(take(4), true)).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(readBytes(bytes[take(1)]).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(readBytes(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(Object.create(null));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x74: // TUPLE
      case 0x6c: {
        // LIST (popMark replaces `stack`, so take the items before pushing)
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(new Set(items as PickleValue[]));
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        if (items.length % 2) error('DICT needs key/value pairs');
        const dict = Object.create(null);
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        append(top(), [item]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2) error('SETITEMS needs key/value pairs');
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        put(bytes[take(1)]);
        break;
      case 0x72: // LONG_BINPUT
        put(view.getUint32(take(4), true));
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x70: // PUT (text)
        put(Number(int(readLine())));
        break;
      case 0x68: // BINGET
        get(bytes[take(1)]);
        break;
      case 0x6a: // LONG_BINGET
        get(view.getUint32(take(4), true));
        break;
      case 0x67: // GET (text)
        get(Number(int(readLine())));
        break;
      case 0x63: {
        // GLOBAL
        const module = readLine();
        stack.push(global(module, readLine()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') error('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x69: {
        // INST: GLOBAL + call with the marked items
        const module = readLine();
        const name = readLine();
        const args = popMark();
        stack.push(call(global(module, name), args, false));
        break;
      }
      case 0x6f: {
        // OBJ: the class is the first marked item
        const items = popMark();
        if (items.length === 0) error('OBJ needs a class');
        stack.push(call(items[0], items.slice(1), false));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(call(callable, args, false));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args, true));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: no class on the allow-list takes keyword arguments
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!isPickleDict(kwargs) || Object.keys(kwargs).length > 0) error('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(call(cls, args, true));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        hook(() => hooks.build(target as PickleValue, state as PickleValue));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        stack.push(hook(() => hooks.persistentLoad(pid as PickleValue)));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = readLine();
        stack.push(hook(() => hooks.persistentLoad(pid)));
        break;
      }
      default:
        error(
          OPCODE_NAMES[op]
            ? `opcode ${OPCODE_NAMES[op]} is not supported by this reader (torch.save does not write it)`
            : `0x${op.toString(16).padStart(2, '0')} is not a pickle opcode; the pickle is corrupt`,
        );
    }
  }
}
