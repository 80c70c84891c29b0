/**
 * The PyTorch checkpoint reader on the golden files written by torch.save (torch_ckpt_tiny): every
 * tensor, in its original dtype, must equal expected.safetensors bit for bit after widening (float16 and
 * bfloat16 exactly, integers and bools as int32), the non-contiguous view included; the Lightning
 * container, the EMA choice and the plain state dict are found as the golden README describes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isPickleDict,
  readSafetensors,
  readTorchCheckpoint,
  selectTorchStateDict,
  TorchCheckpointError,
  TorchTensor,
  type PickleDict,
  type RawTensor,
} from '../src';
import { goldenPath } from '@vtok/test-utils';
import { bfloat16ToNumber, halfToNumber, torchFixture } from './torch-helpers';

const caseJson = JSON.parse(readFileSync(goldenPath('torch_ckpt_tiny', 'case.json'), 'utf8')) as { dtypes: Record<string, string> };
const expected = readSafetensors(torchFixture('expected.safetensors')).tensors;
const EMA_PREFIX = 'model_ema.';
const modelKeys = Object.keys(caseJson.dtypes).filter((k) => !k.startsWith(EMA_PREFIX));

/** The tensor's values as plain numbers, decoded here independently of the reader's conversions. */
function values(t: TorchTensor): number[] {
  const out: number[] = [];
  for (const v of Array.from(t.data as ArrayLike<number | bigint>)) {
    if (t.dtype === 'float16') out.push(halfToNumber(v as number));
    else if (t.dtype === 'bfloat16') out.push(bfloat16ToNumber(v as number));
    else out.push(Number(v));
  }
  return out;
}

/** Bit-exact comparison with the reference (F32 compared as float32 bit patterns, I32 as integers). */
function expectSame(name: string, got: TorchTensor, ref: RawTensor): void {
  expect(got.shape, name).toEqual(ref.shape);
  const v = values(got);
  expect(v.length, name).toBe(ref.data.length);
  if (ref.dtype === 'float32') {
    const asF32 = new Uint32Array(Float32Array.from(v).buffer);
    const refBits = new Uint32Array(ref.data.buffer, ref.data.byteOffset, ref.data.length);
    for (let i = 0; i < v.length; i++) if (asF32[i] !== refBits[i]) expect.fail(`${name}[${i}]: ${v[i]} vs ${ref.data[i]}`);
  } else {
    expect(v, name).toEqual(Array.from(ref.data));
  }
}

describe('readTorchCheckpoint on torch.save files', () => {
  it('reads the Lightning checkpoint: metadata, every tensor in its torch dtype, bit-exact', () => {
    const root = readTorchCheckpoint(torchFixture('model.ckpt')) as PickleDict;
    expect(isPickleDict(root)).toBe(true);
    expect(root.epoch).toBe(3);
    expect(root.global_step).toBe(4567);
    expect(root['pytorch-lightning_version']).toBe('2.0.0');
    expect({ ...(root.hyper_parameters as PickleDict) }).toEqual({ lr: 0.0001, name: 'tiny' });
    const sd = root.state_dict as PickleDict;
    expect(Object.keys(sd).sort()).toEqual(Object.keys(expected).sort());
    expect(Object.keys(sd).sort()).toEqual(Object.keys(caseJson.dtypes).sort());
    for (const [name, torchDtype] of Object.entries(caseJson.dtypes)) {
      const t = sd[name];
      expect(t, name).toBeInstanceOf(TorchTensor);
      expect(`torch.${(t as TorchTensor).dtype}`, name).toBe(torchDtype);
      expectSame(name, t as TorchTensor, expected[name]);
    }
  });

  it('reads the bare state dict (pytorch_model.bin style): model keys only, same values', () => {
    const root = readTorchCheckpoint(torchFixture('plain.bin')) as PickleDict;
    expect(Object.keys(root).sort()).toEqual([...modelKeys].sort());
    for (const name of modelKeys) {
      expect(`torch.${(root[name] as TorchTensor).dtype}`).toBe(caseJson.dtypes[name]);
      expectSame(name, root[name] as TorchTensor, expected[name]);
    }
  });

  it('gathers the non-contiguous (transposed) view into row-major order', () => {
    const sd = (readTorchCheckpoint(torchFixture('model.ckpt')) as PickleDict).state_dict as PickleDict;
    const view = sd['decoder.strided_view'] as TorchTensor;
    expect(view.shape).toEqual(expected['decoder.strided_view'].shape);
    // Its storage holds the transpose: element (i, j) of the view is element (j, i) of the storage.
    expectSame('decoder.strided_view', view, expected['decoder.strided_view']);
  });

  it('views aligned contiguous data without copying, and copies everything with { copy: true }', () => {
    const bytes = new Uint8Array(torchFixture('model.ckpt')); // own buffer, offset 0: storages 64-byte aligned
    const viewed = (readTorchCheckpoint(bytes) as PickleDict).state_dict as PickleDict;
    const copied = (readTorchCheckpoint(bytes, { copy: true }) as PickleDict).state_dict as PickleDict;
    expect((viewed['encoder.conv_in.weight'] as TorchTensor).data.buffer).toBe(bytes.buffer);
    expect((viewed['decoder.strided_view'] as TorchTensor).data.buffer).not.toBe(bytes.buffer);
    for (const t of Object.values(copied)) expect((t as TorchTensor).data.buffer).not.toBe(bytes.buffer);
    expectSame('encoder.conv_in.weight', copied['encoder.conv_in.weight'] as TorchTensor, expected['encoder.conv_in.weight']);
  });

  it('accepts an ArrayBuffer and a Node Buffer as well as a Uint8Array', () => {
    const bytes = torchFixture('plain.bin');
    const fromBuffer = readTorchCheckpoint(Buffer.from(bytes)) as PickleDict;
    const fromArrayBuffer = readTorchCheckpoint(bytes.slice().buffer) as PickleDict;
    expectSame('encoder.norm.weight', fromBuffer['encoder.norm.weight'] as TorchTensor, expected['encoder.norm.weight']);
    expectSame('encoder.norm.weight', fromArrayBuffer['encoder.norm.weight'] as TorchTensor, expected['encoder.norm.weight']);
  });
});

describe('selectTorchStateDict', () => {
  const ckpt = readTorchCheckpoint(torchFixture('model.ckpt'));

  it('finds state_dict in a Lightning checkpoint and substitutes the model_ema.* copies (dots removed)', () => {
    const sel = selectTorchStateDict(ckpt);
    expect(sel.path).toEqual(['state_dict']);
    expect(Object.keys(sel.tensors)).toEqual(modelKeys); // file order, no EMA keys of their own
    expect(sel.emaSource).toBe('model_ema.*');
    let fromEma = 0;
    for (const name of modelKeys) {
      const emaName = EMA_PREFIX + name.replace(/\./g, '');
      const source = expected[emaName] ? emaName : name;
      if (expected[emaName]) fromEma++;
      expectSame(`${name} <- ${source}`, sel.tensors[name], expected[source]);
      expect(`torch.${sel.tensors[name].dtype}`).toBe(caseJson.dtypes[source]);
    }
    expect(sel.emaTensors).toBe(fromEma);
    expect(fromEma).toBe(modelKeys.length); // this file has an EMA copy of every model key
    // The EMA copy of the float16 weight is float32: the choice is visible in the dtype.
    expect(sel.tensors['decoder.conv_out.weight'].dtype).toBe('float32');
    expect(sel.skipped).toContain('model_ema.num_updates');
  });

  it('keeps the raw weights with preferEma: false', () => {
    const sel = selectTorchStateDict(ckpt, { preferEma: false });
    expect(sel.emaTensors).toBe(0);
    expect(sel.emaSource).toBeNull();
    expect(Object.keys(sel.tensors)).toEqual(modelKeys);
    for (const name of modelKeys) expectSame(name, sel.tensors[name], expected[name]);
    expect(sel.tensors['decoder.conv_out.weight'].dtype).toBe('float16');
    expect(sel.skipped.filter((k) => k.startsWith(EMA_PREFIX)).sort()).toEqual(Object.keys(caseJson.dtypes).filter((k) => k.startsWith(EMA_PREFIX)).sort());
  });

  it('uses the top level of a bare state dict', () => {
    const sel = selectTorchStateDict(readTorchCheckpoint(torchFixture('plain.bin')));
    expect(sel.path).toEqual([]);
    expect(sel.emaTensors).toBe(0);
    expect(Object.keys(sel.tensors)).toEqual(modelKeys);
  });

  it('follows an explicit key, and names the keys there when it is missing', () => {
    expect(Object.keys(selectTorchStateDict(ckpt, { key: 'state_dict', preferEma: false }).tensors)).toEqual(modelKeys);
    const hp = selectTorchStateDict(ckpt, { key: ['hyper_parameters'] });
    expect(hp.tensors).toEqual({});
    expect(hp.skipped).toEqual(['lr', 'name']);
    expect(() => selectTorchStateDict(ckpt, { key: 'weights' })).toThrow(/no "weights".*"state_dict"/);
    expect(() => selectTorchStateDict(ckpt, { key: ['epoch', 'x'] })).toThrow(TorchCheckpointError);
    expect(() => selectTorchStateDict(ckpt, { key: 'epoch' })).toThrow(/holds 3, not a state dict/);
  });

  it('refuses data without a state dict, naming what it found', () => {
    expect(() => selectTorchStateDict([1, 2] as never)).toThrow(/not a dict/);
    const noTensors = Object.assign(Object.create(null), { epoch: 1, hyper_parameters: Object.create(null) });
    expect(() => selectTorchStateDict(noTensors)).toThrow(/no state dict found.*"epoch"/);
  });
});
