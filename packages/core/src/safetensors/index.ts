export { SAFETENSORS_DTYPE_BITS, READABLE_DTYPES, WRITTEN_DTYPES } from './dtypes';
export type { SafetensorsDtype, ReadableDtype, RawDtype } from './dtypes';
export type { RawTensor, RawTensorInput, SafetensorsFile, SafetensorsHeader, SafetensorsTensorInfo, ReadSafetensorsOptions } from './types';
export { DEFAULT_MAX_HEADER_BYTES, parseSafetensorsHeader } from './header';
export { f16BitsToF32Bits } from './decode';
export { readSafetensors, toTensors, readSafetensorsAsTensors } from './read';
export { writeSafetensors } from './write';
export { loadSafetensors, loadSafetensorsBytes, saveSafetensorsFile } from './sources';
export type { SafetensorsSource, LoadSafetensorsOptions } from './sources';
