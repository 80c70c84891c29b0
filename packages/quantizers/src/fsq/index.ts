export { registerFiniteScalarQuantizer } from './register';

export { FiniteScalarQuantizer } from './finite-scalar-quantizer';
export {
  type FsqConfig,
  type ResolvedFsqConfig,
  type FsqChannelConstants,
  FSQ_BOUND_EPS,
  FSQ_MAX_CODEBOOK_SIZE,
} from './config';
