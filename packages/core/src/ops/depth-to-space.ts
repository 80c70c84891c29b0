/**
 * Depth-to-space and space-to-depth for channels-last tensors, 2D (NHWC) and 3D (NDHWC), written
 * as reshape + transpose so they are differentiable (tf.depthToSpace has no gradient and there is no
 * tf.spaceToDepth). Every transpose stays at rank <= 5 so each backend's transpose kernel takes it.
 *
 * Channel order, for an output pixel at sub-position (i, j) of its block and output channel c of C:
 * - 'tf'    (DCR, depth-column-row): input channel (i·bs + j)·C + c — tf.depthToSpace, and what
 *           Open-MAGVIT2's depth_to_space computes (its 2D up-sampler and, with the temporal offset
 *           leading, ((t·bs + i)·bs + j)·C + c, its 3D one).
 * - 'torch' (CRD, column-row-depth): input channel c·bs² + i·bs + j — F.pixel_shuffle and
 *           einops `b (c p1 p2) h w -> b c (h p1) (w p2)`; in 3D c·bt·bs² + (t·bs + i)·bs + j.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors';
import { assertFloat, assertPositiveInt, assertRank, formatShape } from './validate';

export type ChannelOrder = 'tf' | 'torch';

export interface DepthToSpaceOptions {
  /** Default 'tf' (DCR), the order Open-MAGVIT2 uses; 'torch' for pixel_shuffle-style checkpoints. */
  order?: ChannelOrder;
}

/** The checks every depth/space op starts with; returns the channel order to use. */
function checkArgs(op: string, x: tf.Tensor, factors: Record<string, number>, options: DepthToSpaceOptions): ChannelOrder {
  const order = options.order ?? 'tf';
  if (order !== 'tf' && order !== 'torch') throw new ShapeError(`${op}: order must be 'tf' or 'torch', got '${order as string}'`);
  assertFloat(x, op);
  const rank = Object.keys(factors).length === 1 ? 4 : 5;
  assertRank(x, rank, op, 'x', rank === 4 ? '[B,H,W,C]' : '[B,T,H,W,C]');
  for (const [name, value] of Object.entries(factors)) assertPositiveInt(value, op, name);
  return order;
}

/** [B,H,W,C·bs²] → [B,H·bs,W·bs,C]. */
export function depthToSpace2d(x: tf.Tensor, blockSize: number, options: DepthToSpaceOptions = {}): tf.Tensor {
  const op = 'depthToSpace2d';
  const order = checkArgs(op, x, { blockSize }, options);
  const [b, h, w, cin] = x.shape;
  const bs = blockSize;
  if (cin % (bs * bs) !== 0) {
    throw new ShapeError(`${op}: channels ${cin} of ${formatShape(x.shape)} must be divisible by blockSize² = ${bs * bs}`);
  }
  const c = cin / (bs * bs);
  return tf.tidy(() => {
    // B and H stay adjacent (and in order) throughout, so they travel as one axis.
    const moved =
      order === 'tf'
        ? tf.transpose(tf.reshape(x, [b * h, w, bs, bs * c]), [0, 2, 1, 3]) // [BH, i, W, (j c)]
        : tf.transpose(tf.reshape(x, [b * h, w, c, bs, bs]), [0, 3, 1, 4, 2]); // [BH, i, W, j, c]
    return tf.reshape(moved, [b, h * bs, w * bs, c]);
  });
}

/** [B,H·bs,W·bs,C] → [B,H,W,C·bs²]; the exact inverse of depthToSpace2d with the same order. */
export function spaceToDepth2d(x: tf.Tensor, blockSize: number, options: DepthToSpaceOptions = {}): tf.Tensor {
  const op = 'spaceToDepth2d';
  const order = checkArgs(op, x, { blockSize }, options);
  const [b, hs, ws, c] = x.shape;
  const bs = blockSize;
  if (hs % bs !== 0 || ws % bs !== 0) {
    throw new ShapeError(`${op}: height and width of ${formatShape(x.shape)} must be divisible by blockSize ${bs}`);
  }
  const h = hs / bs;
  const w = ws / bs;
  return tf.tidy(() => {
    const moved =
      order === 'tf'
        ? tf.transpose(tf.reshape(x, [b * h, bs, w, bs * c]), [0, 2, 1, 3]) // [BH, W, i, (j c)]
        : tf.transpose(tf.reshape(x, [b * h, bs, w, bs, c]), [0, 2, 4, 1, 3]); // [BH, W, c, i, j]
    return tf.reshape(moved, [b, h, w, c * bs * bs]);
  });
}

/**
 * [B,T,H,W,C·bt·bs²] → [B,T·bt,H·bs,W·bs,C], separate temporal (bt) and spatial (bs) factors. The
 * default order is 'tf' (DCR with the temporal offset leading), which is Open-MAGVIT2's video
 * up-sampler. Dropping the extra frame after a causal ×2 is the model's business, not done here.
 */
export function depthToSpace3d(x: tf.Tensor, temporal: number, spatial: number, options: DepthToSpaceOptions = {}): tf.Tensor {
  const op = 'depthToSpace3d';
  const order = checkArgs(op, x, { temporal, spatial }, options);
  const [b, t, h, w, cin] = x.shape;
  const bt = temporal;
  const bs = spatial;
  const block = bt * bs * bs;
  if (cin % block !== 0) {
    throw new ShapeError(`${op}: channels ${cin} of ${formatShape(x.shape)} must be divisible by temporal·spatial² = ${block}`);
  }
  const c = cin / block;
  return tf.tidy(() => {
    // First move the temporal offset out of the channels into its own frames, then the spatial
    // part is a 2D depth-to-space on [B·T·bt, H, W, bs²·C] in the same order.
    const frames =
      order === 'tf'
        ? tf.transpose(tf.reshape(x, [b * t, h * w, bt, bs * bs * c]), [0, 2, 1, 3]) // [BT, a, HW, (i j c)]
        : tf.transpose(tf.reshape(x, [b * t, h * w, c, bt, bs * bs]), [0, 3, 1, 2, 4]); // [BT, a, HW, c, (i j)]
    const spatial2d = depthToSpace2d(tf.reshape(frames, [b * t * bt, h, w, c * bs * bs]), bs, { order });
    return tf.reshape(spatial2d, [b, t * bt, h * bs, w * bs, c]);
  });
}

/** [B,T·bt,H·bs,W·bs,C] → [B,T,H,W,C·bt·bs²]; the exact inverse of depthToSpace3d with the same order. */
export function spaceToDepth3d(x: tf.Tensor, temporal: number, spatial: number, options: DepthToSpaceOptions = {}): tf.Tensor {
  const op = 'spaceToDepth3d';
  const order = checkArgs(op, x, { temporal, spatial }, options);
  const [b, ts, hs, ws, c] = x.shape;
  const bt = temporal;
  const bs = spatial;
  if (ts % bt !== 0 || hs % bs !== 0 || ws % bs !== 0) {
    throw new ShapeError(`${op}: frames of ${formatShape(x.shape)} must be divisible by ${bt} and height and width by ${bs}`);
  }
  const t = ts / bt;
  const h = hs / bs;
  const w = ws / bs;
  return tf.tidy(() => {
    const packed = spaceToDepth2d(tf.reshape(x, [b * ts, hs, ws, c]), bs, { order }); // [B·T·bt, H, W, bs²·C]
    const merged =
      order === 'tf'
        ? tf.transpose(tf.reshape(packed, [b * t, bt, h * w, bs * bs * c]), [0, 2, 1, 3]) // [BT, HW, a, (i j c)]
        : tf.transpose(tf.reshape(packed, [b * t, bt, h * w, c, bs * bs]), [0, 2, 3, 1, 4]); // [BT, HW, c, a, (i j)]
    return tf.reshape(merged, [b, t, h, w, c * bt * bs * bs]);
  });
}
