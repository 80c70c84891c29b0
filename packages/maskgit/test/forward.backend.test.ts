/**
 * Both generators against a float64 reference written from the spec (test/reference.ts): UViTBert (no
 * golden data exists for it) and ImageBert on a 2D token grid, with O(1)-scale random weights so layout
 * bugs (qkv split, skip order, head split) cannot hide. Also the logits() input forms.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DTypeError, SeededRandom, ShapeError, ValueError } from '@vtok/core';
import { expectAllClose } from '@vtok/test-utils';
import { describe, expect, it } from 'vitest';
import { type MaskGITGenerator, createMaskGIT } from '../src';
import { bertReference, randomizeParams, readParams, uvitReference } from './reference';

// float32 against float64 through a few layers at O(1) scale: the golden rule's tolerance.
const TOL = { atol: 1e-4, rtol: 1e-4 };

function randomInputs(model: MaskGITGenerator, batch: number, seed: number): { ids: Int32Array; classes: number[] } {
  const rng = new SeededRandom(seed);
  const l = model.sequenceLength;
  // Some positions are the mask id, as in sampling and training.
  const ids = Int32Array.from({ length: batch * l }, () => (rng.next() < 0.3 ? model.vocabulary.maskId : rng.nextInt(model.vocabulary.codebookSize)));
  const classes = Array.from({ length: batch }, () => rng.nextInt(model.numClasses));
  return { ids, classes };
}

async function expectMatchesReference(model: MaskGITGenerator, reference: typeof bertReference, label: string) {
  const batch = 2;
  const { ids, classes } = randomInputs(model, batch, 11);
  const tokens = tf.tensor(ids, [batch, ...model.config.tokenShape], 'int32');
  const drop = [false, true];
  const before = tf.memory().numTensors;
  const logits = model.logits(tokens, classes, { dropCondition: drop });
  expect(tf.memory().numTensors - before, 'logits() keeps only its output').toBe(1);
  const l = model.sequenceLength;
  const k = model.vocabulary.codebookSize;
  expect(logits.shape).toEqual([batch, l, k]);
  const params = await readParams(model);
  const expected = new Float64Array(batch * l * k);
  for (let b = 0; b < batch; b++) {
    const condition = drop[b] ? model.vocabulary.nullClassId : model.vocabulary.classOffset + classes[b];
    const seq = [condition, ...ids.subarray(b * l, (b + 1) * l)];
    expected.set(reference(params, seq, model.config.numHeads, model.config.numLayers), b * l * k);
  }
  await expectAllClose(await logits.data(), expected, TOL, label);
  tf.dispose([logits, tokens]);
}

describe(`generator forward passes on ${process.env.VTOK_TEST_BACKEND ?? 'cpu'}`, () => {
  it('UViTBert matches the float64 reference (pre-LN, qkv thirds, LIFO long skips)', async () => {
    const model = createMaskGIT({ modelType: 'UViT', codebookSize: 24, numClasses: 5, tokenShape: [6], hiddenSize: 32, numLayers: 4, numHeads: 4, intermediateSize: 64 }, { seed: 1 });
    randomizeParams(model, 2);
    await expectMatchesReference(model, uvitReference, 'UViTBert logits');
    model.dispose();
  });

  it('ImageBert over a 2D token grid matches the float64 reference (flattened row-major)', async () => {
    const model = createMaskGIT({ codebookSize: 20, numClasses: 4, tokenShape: [2, 3], hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 48 }, { seed: 3 });
    randomizeParams(model, 4);
    await expectMatchesReference(model, bertReference, 'ImageBert 2D logits');
    model.dispose();
  });

  it('takes classes as an int32 tensor and tokens as [B, L]; refuses bad inputs with typed errors', async () => {
    const model = createMaskGIT({ codebookSize: 16, numClasses: 3, tokenShape: [2, 2], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32 }, { seed: 5 });
    const grid = tf.tensor([[[1, 2], [3, 16]], [[0, 16], [5, 6]]], [2, 2, 2], 'int32');
    const flat = tf.reshape(grid, [2, 4]);
    const classTensor = tf.tensor1d([2, 0], 'int32');
    const a = model.logits(grid, [2, 0], { dropCondition: [false, true] });
    const b = model.logits(flat, classTensor, { dropCondition: [false, true] });
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([a, b]);

    const before = tf.memory().numTensors;
    expect(() => model.logits(grid, [0, 3])).toThrow(ValueError);
    expect(() => model.logits(grid, [0, 3])).toThrow(/classes\[1\] must be an integer class id in \[0, 2\] \(the generator has 3 classes\), got 3/);
    expect(() => model.logits(grid, [0])).toThrow(/1 class labels for 2 token sequences/);
    expect(() => model.logits(tf.cast(grid, 'float32'), [0, 1])).toThrow(DTypeError);
    expect(() => model.logits(tf.zeros([2, 5], 'int32'), [0, 1])).toThrow(/MaskGIT: expected tokens \[B, 2, 2\] or \[B, 4\], got \[2, 5\]/);
    expect(() => model.logits(grid, [0, 1], { dropCondition: [true] })).toThrow(ShapeError);
    expect(() => model.logits(grid, tf.tensor1d([0, 1, 2], 'int32'))).toThrow(/classes must have shape \[2\]/);
    // The tensors made inside the expect() calls above (cast, zeros, tensor1d) are the test's own.
    expect(tf.memory().numTensors - before).toBe(3);
    tf.dispose([grid, flat, classTensor]);
    model.dispose();
  });

  it('trains: dropout only with training, gradients reach every parameter', async () => {
    const model = createMaskGIT({ codebookSize: 16, numClasses: 3, tokenShape: [4], hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, dropout: 0.5, attnDrop: 0.5 }, { seed: 6 });
    const tokens = tf.tensor2d([[1, 16, 3, 16]], [1, 4], 'int32');
    const evalA = model.logits(tokens, [1]);
    const evalB = model.logits(tokens, [1]);
    const trainA = model.logits(tokens, [1], { training: true });
    expect(Array.from(await evalA.data())).toEqual(Array.from(await evalB.data()));
    expect(Array.from(await trainA.data())).not.toEqual(Array.from(await evalA.data()));
    tf.dispose([evalA, evalB, trainA]);
    const { grads, value } = tf.variableGrads(() => tf.mean(tf.square(model.logits(tokens, [1], { training: true }))) as tf.Scalar);
    // The token-type row 1 and unused embedding rows get zero gradient, but every variable gets one.
    expect(Object.keys(grads).length).toBe(model.trainableVariables().length);
    tf.dispose([value, ...Object.values(grads), tokens]);
    model.dispose();
  });
});
