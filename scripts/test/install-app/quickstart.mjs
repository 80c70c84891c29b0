// The quick start as a user runs it after `npm install`ing the packed tarballs: the zoo's digits models
// by name on the wasm backend, encode → decode, then class-conditional generation. Prints one JSON line.
import * as tf from '@tensorflow/tfjs-core';
import { wasm } from '@vtok/backend-wasm';
import { composePipeline, useBackend } from '@vtok/core';
import { loadPretrained } from '@vtok/zoo';

const backend = await useBackend([wasm()]);
const tokenizer = await loadPretrained('digits-vqgan');
const generator = await loadPretrained('digits-maskgit');
const pipeline = composePipeline({ tokenizer, generator });
const start = tf.memory().numTensors;

const images = await pipeline.generate({ classes: [0, 7], steps: 4, seed: 1 });
const tokens = await tokenizer.encode(images);
const recon = await tokenizer.decode(tokens);
const ids = await tokens.data();
const pixels = await recon.data();
const report = {
  backend: backend.name,
  images: images.shape,
  tokens: { shape: tokens.shape, dtype: tokens.dtype, min: Math.min(...ids), max: Math.max(...ids) },
  reconstruction: { shape: recon.shape, min: Math.min(...pixels), max: Math.max(...pixels) },
};
tf.dispose([images, tokens, recon]);
report.leakedTensors = tf.memory().numTensors - start;
tokenizer.dispose();
generator.dispose();
console.log(JSON.stringify(report));
