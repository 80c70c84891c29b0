/**
 * Hostile pickles: any global outside the tensor-rebuild allow-list is refused with a
 * PickleSecurityError naming it, before anything could be called, in every place and through every
 * opcode that can name a global; and nothing in the file runs, even in the opt-in 'opaque' mode, which
 * only records what the pickle asked for.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  loadTorchStateDict,
  PickledObject,
  PickleSecurityError,
  readTorchCheckpoint,
  selectTorchStateDict,
  TORCH_PICKLE_ALLOWED_GLOBALS,
  TorchCheckpointError,
  VtokError,
  type PickleDict,
} from '../src';
import { op, pickle, stateDictPickle, writeTorchLegacy, writeTorchZip } from './torch-helpers';

declare global {
  // eslint-disable-next-line no-var
  var __vtokPickleRan: boolean | undefined;
}

const marker = join(tmpdir(), `vtok-pickle-ran-${process.pid}`);
const PAYLOAD_JS = 'globalThis.__vtokPickleRan = true';
const PAYLOAD_SH = `touch ${marker}`;

/** `module.name(arg)` as a pickle: GLOBAL + one-string tuple + REDUCE. */
function callPickle(module: string, name: string, arg: string): Uint8Array {
  return pickle(op.proto(2), op.global(module, name), op.str(arg), op.tuple1, op.reduce, op.stop);
}

/** The same as a complete torch.save zip archive. */
function archive(body: Uint8Array): Uint8Array {
  return writeTorchZip(body, {});
}

function refusal(run: () => unknown): PickleSecurityError {
  try {
    run();
  } catch (error) {
    if (error instanceof PickleSecurityError) return error;
    throw new Error(`expected a PickleSecurityError, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
  throw new Error('expected a PickleSecurityError, but the file was read');
}

describe('the allow-list refuses everything else, and nothing runs', () => {
  let evalSpy: ReturnType<typeof vi.spyOn>;
  let functionSpy: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    globalThis.__vtokPickleRan = false;
    evalSpy = vi.spyOn(globalThis, 'eval');
    functionSpy = vi.spyOn(globalThis, 'Function');
  });
  afterEach(() => {
    // The payloads had their chance: no JS was evaluated, no command was run.
    expect(globalThis.__vtokPickleRan).toBe(false);
    expect(existsSync(marker)).toBe(false);
    expect(evalSpy).not.toHaveBeenCalled();
    expect(functionSpy).not.toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  const hostile: [string, string, string][] = [
    ['os', 'system', PAYLOAD_SH],
    ['posix', 'system', PAYLOAD_SH],
    ['subprocess', 'check_output', PAYLOAD_SH],
    ['builtins', 'eval', PAYLOAD_JS],
    ['builtins', 'exec', PAYLOAD_JS],
    ['__builtin__', 'eval', PAYLOAD_JS],
    ['__builtin__', 'getattr', 'system'],
    ['builtins', '__import__', 'os'],
    ['copyreg', '_reconstructor', 'x'],
    ['pytorch_lightning.callbacks.model_checkpoint', 'ModelCheckpoint', 'x'],
    ['lightning.fabric.utilities.data', 'AttributeDict', 'x'],
    ['torch', 'load', 'x'],
    ['torch.serialization', 'load', 'x'],
    ['torch._utils', '_rebuild_device_tensor_from_numpy', 'x'],
    ['numpy.core.multiarray', '_reconstruct', 'x'],
    ['torch.storage', '_load_from_bytes', 'x'],
  ];
  for (const [module, name, arg] of hostile) {
    it(`refuses ${module}.${name}, naming it and saying nothing was executed`, () => {
      const error = refusal(() => readTorchCheckpoint(archive(callPickle(module, name, arg))));
      expect(error).toBeInstanceOf(VtokError);
      expect(error).not.toBeInstanceOf(TorchCheckpointError);
      expect(error.code).toBe('PICKLE_SECURITY');
      expect(error.name).toBe('PickleSecurityError');
      expect(error.globalModule).toBe(module);
      expect(error.globalName).toBe(name);
      expect(error.message).toContain(`${module}.${name}`);
      expect(error.message).toContain('Nothing in the file was executed');
      expect(error.message).toContain('archive/data.pkl');
    });
  }

  it('refuses at the name, before any call: a GLOBAL followed by garbage is still a refusal', () => {
    const body = pickle(op.proto(2), op.global('os', 'system'), [0xff, 0xff]);
    expect(refusal(() => readTorchCheckpoint(archive(body))).globalName).toBe('system');
  });

  it('refuses through every opcode that names a global: STACK_GLOBAL, INST, and GLOBAL inside a tensor', () => {
    const enc = new TextEncoder();
    const stackGlobal = pickle(op.proto(4), op.str('os'), op.str('system'), [0x93], op.str(PAYLOAD_SH), op.tuple1, op.reduce, op.stop);
    expect(refusal(() => readTorchCheckpoint(archive(stackGlobal))).globalModule).toBe('os');
    const inst = pickle(op.mark, op.str(PAYLOAD_SH), [0x69, ...enc.encode('os\nsystem\n')], op.stop);
    expect(refusal(() => readTorchCheckpoint(archive(inst))).globalModule).toBe('os');
    // A hostile "rebuild function" standing where torch puts _rebuild_tensor_v2.
    const fake = pickle(op.proto(2), op.global('torch._utils', '_rebuild_tensor_v9'), op.emptyTuple, op.reduce, op.stop);
    expect(refusal(() => readTorchCheckpoint(archive(fake))).globalName).toBe('_rebuild_tensor_v9');
  });

  it('refuses a hostile object hidden in the hyper-parameters of an otherwise valid checkpoint', () => {
    const { bytes, storages } = lightningCheckpoint();
    const error = refusal(() => readTorchCheckpoint(writeTorchZip(bytes, storages)));
    expect(`${error.globalModule}.${error.globalName}`).toBe('pytorch_lightning.utilities.parsing.AttributeDict');
  });

  it('refuses in the legacy format too, in the header pickles as in the main one', () => {
    expect(refusal(() => readTorchCheckpoint(writeTorchLegacy(callPickle('os', 'system', PAYLOAD_SH), {}))).message).toContain('legacy checkpoint (main pickle)');
    const hostileMagic = pickle(callPickle('builtins', 'eval', PAYLOAD_JS));
    const header = refusal(() => readTorchCheckpoint(hostileMagic));
    expect(header.globalName).toBe('eval');
    expect(header.message).toContain('legacy checkpoint (header)');
  });

  it('rejects the promise of loadTorchStateDict with the same error', async () => {
    await expect(loadTorchStateDict(archive(callPickle('os', 'system', PAYLOAD_SH)))).rejects.toBeInstanceOf(PickleSecurityError);
  });

  it("with unknownGlobals: 'opaque', records hostile calls as inert objects and still runs nothing", () => {
    const root = readTorchCheckpoint(archive(callPickle('builtins', 'eval', PAYLOAD_JS)), { unknownGlobals: 'opaque' });
    expect(root).toBeInstanceOf(PickledObject);
    const obj = root as PickledObject;
    expect([obj.module, obj.name, obj.args]).toEqual(['builtins', 'eval', [PAYLOAD_JS]]);
    const sys = readTorchCheckpoint(archive(callPickle('os', 'system', PAYLOAD_SH)), { unknownGlobals: 'opaque' }) as PickledObject;
    expect(sys.args).toEqual([PAYLOAD_SH]);
  });

  it("with unknownGlobals: 'opaque', reads the weights of a checkpoint whose hyper-parameters hold foreign objects", () => {
    const { bytes, storages } = lightningCheckpoint();
    const root = readTorchCheckpoint(writeTorchZip(bytes, storages), { unknownGlobals: 'opaque' }) as PickleDict;
    const hp = root.hyper_parameters as PickledObject;
    expect(hp).toBeInstanceOf(PickledObject);
    expect(hp.name).toBe('AttributeDict');
    expect({ ...(hp.state as PickleDict) }).toEqual({ lr: 0.5 });
    const sel = selectTorchStateDict(root);
    expect(Object.keys(sel.tensors)).toEqual(['w']);
    expect(Array.from(sel.tensors.w.data as Float32Array)).toEqual([1, 2]);
  });

  it('does not let a foreign class stand in for torch.Tensor or a rebuild function, even in opaque mode', () => {
    const body = pickle(
      op.proto(2),
      op.global('torch._tensor', '_rebuild_from_type_v2'),
      op.mark,
      op.global('os', 'system'),
      op.global('torch', 'Tensor'),
      op.str(PAYLOAD_SH),
      op.tuple1,
      op.emptyDict,
      op.tuple,
      op.reduce,
      op.stop,
    );
    expect(refusal(() => readTorchCheckpoint(archive(body))).globalModule).toBe('os');
    expect(() => readTorchCheckpoint(archive(body), { unknownGlobals: 'opaque' })).toThrow(/is not a tensor rebuild function/);
  });

  it('publishes the allow-list, which holds only rebuild functions, torch types and plain containers', () => {
    for (const name of TORCH_PICKLE_ALLOWED_GLOBALS) {
      expect(name).toMatch(/^(torch\.|collections\.OrderedDict$|builtins\.(set|frozenset|bytes|bytearray)$|_codecs\.encode$)/);
    }
    expect(TORCH_PICKLE_ALLOWED_GLOBALS).toContain('torch._utils._rebuild_tensor_v2');
  });
});

/** A Lightning-style checkpoint whose hyper_parameters is an AttributeDict (a class outside the allow-list). */
function lightningCheckpoint(): { bytes: Uint8Array; storages: Record<string, Uint8Array> } {
  const sd = stateDictPickle({ w: { storage: '0', dtype: 'float32', shape: [2] } }, { '0': { dtype: 'float32', numel: 2 } });
  // Reuse the state dict pickle's body (without PROTO and STOP) as the value of 'state_dict'.
  const inner = sd.subarray(2, sd.length - 1);
  const bytes = pickle(
    op.proto(2),
    op.emptyDict,
    op.mark,
    op.str('state_dict'),
    inner,
    op.str('hyper_parameters'),
    op.global('pytorch_lightning.utilities.parsing', 'AttributeDict'),
    op.emptyTuple,
    op.reduce,
    op.emptyDict,
    op.mark,
    op.str('lr'),
    op.float(0.5),
    op.setitems,
    op.build,
    op.setitems,
    op.stop,
  );
  return { bytes, storages: { '0': new Uint8Array(new Float32Array([1, 2]).buffer) } };
}
