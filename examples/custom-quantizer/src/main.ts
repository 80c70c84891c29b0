#!/usr/bin/env node
// `pnpm start` in this folder: a residual-VQ quantizer plugin inside a small tokenizer, trained for a few
// steps on synthetic images, then images -> tokens -> images. VTOK_BACKEND=cpu|wasm|webgpu picks a backend.
import { useBackend } from '@vtok/core';
import { wasm } from '@vtok/backend-wasm';
import { runExample } from './run';

const forced = process.env.VTOK_BACKEND;
const info = await useBackend(forced ? forced : [wasm(), 'cpu']).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
console.log(`backend: ${info.name} on ${info.device}`);
const steps = Number(process.env.VTOK_EXAMPLE_STEPS ?? 60);
const report = await runExample({ steps, log: (line) => console.log(line) });
if (!(report.errorAfter < report.errorBefore)) {
  console.error('training did not reduce the reconstruction error');
  process.exit(1);
}
