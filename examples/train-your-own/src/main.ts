/** `node dist/main.js <image folder> [--out my-vqgan] [--steps 200] [--batch 8] [--lr 1e-3] [--held-out N] [--backend auto]` */
import { parseArgs } from 'node:util';
import { useBackend } from '@vtok/core';
import { trainYourOwn } from './train-your-own';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'my-vqgan' },
    steps: { type: 'string', default: '200' },
    batch: { type: 'string', default: '8' },
    lr: { type: 'string', default: '1e-3' },
    'held-out': { type: 'string' },
    backend: { type: 'string', default: 'auto' },
  },
});
const usage = 'usage: node dist/main.js <image folder> [--out my-vqgan] [--steps N] [--batch N] [--lr X] [--held-out N] [--backend auto|wasm|webgpu|cpu]';
const integer = (name: string, text: string | undefined) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be an integer >= 1, got ${text}\n${usage}`);
    process.exit(2);
  }
  return n;
};
if (positionals.length !== 1) {
  console.error(`give one image folder, got ${positionals.length}\n${usage}`);
  process.exit(2);
}
const lr = Number(values.lr);
if (!(lr > 0)) {
  console.error(`--lr must be a positive number, got ${values.lr}\n${usage}`);
  process.exit(2);
}
// The backend packages are this example's dependencies, so they are imported from here.
const backend = await useBackend(values.backend as 'auto', { importPackage: (name) => import(name) });
console.log(`backend: ${backend.name} on ${backend.device}`);
await trainYourOwn({
  images: positionals[0],
  out: values.out!,
  steps: integer('steps', values.steps),
  batchSize: integer('batch', values.batch),
  lr,
  heldOut: values['held-out'] === undefined ? undefined : integer('held-out', values['held-out']),
});
