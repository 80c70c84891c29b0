/** `node dist/main.js [--out quickstart-out] [--digits 8] [--seed 0] [--backend auto]` */
import { parseArgs } from 'node:util';
import { useBackend } from '@vtok/core';
import { runQuickstart } from './quickstart';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'quickstart-out' }, digits: { type: 'string', default: '8' }, seed: { type: 'string', default: '0' }, backend: { type: 'string', default: 'auto' } },
});
const digits = Number(values.digits);
const seed = Number(values.seed);
if (!Number.isInteger(digits) || digits < 1 || !Number.isInteger(seed)) {
  console.error(`usage: node dist/main.js [--out folder] [--digits N >= 1] [--seed N] [--backend auto|wasm|webgpu|cpu]; got --digits ${values.digits} --seed ${values.seed}`);
  process.exit(2);
}
// The backend packages are this example's dependencies, so they are imported from here.
const backend = await useBackend(values.backend as 'auto', { importPackage: (name) => import(name) });
console.log(`backend: ${backend.name} on ${backend.device}`);
await runQuickstart({ out: values.out!, digits, seed });
