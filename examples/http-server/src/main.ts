#!/usr/bin/env node
// `pnpm start -- [--port 8080] [--host 127.0.0.1] [--concurrency 2] [--queue 8] [--max-steps 16]`:
// serves generated digits as PNG on loopback (pass --host 0.0.0.0 to expose it). VTOK_BACKEND picks
// a backend (default wasm). Ctrl-C or SIGTERM finishes the running generations, then exits.
import { parseArgs } from 'node:util';
import { wasm } from '@vtok/backend-wasm';
import { useBackend } from '@vtok/core';
import { loadDigitsPipeline } from './digits';
import { createGenerationServer } from './server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    concurrency: { type: 'string', default: '2' },
    queue: { type: 'string', default: '8' },
    'max-steps': { type: 'string', default: '16' },
  },
  strict: true,
});

function integerOption(name: keyof typeof values, min: number): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got "${values[name]}"`);
    process.exit(2);
  }
  return value;
}

const options = {
  port: integerOption('port', 0),
  concurrency: integerOption('concurrency', 1),
  queue: integerOption('queue', 0),
  maxSteps: integerOption('max-steps', 1),
};
const backend = await useBackend(process.env.VTOK_BACKEND || [wasm(), 'cpu']);
const digits = await loadDigitsPipeline();
const app = createGenerationServer({
  pipeline: digits.pipeline,
  concurrency: options.concurrency,
  queue: options.queue,
  maxSteps: options.maxSteps,
  defaultSteps: Math.min(digits.steps, options.maxSteps),
});
const address = await app.listen(options.port, values.host);
const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
console.log(`vtok digits on ${backend.name}: http://${shown}:${address.port}/generate?class=7&seed=1 (health: /health)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130); // a second Ctrl-C does not wait
    stopping = true;
    console.log(`${signal}: finishing the running generations…`);
    void app.close().then(() => {
      digits.dispose();
      process.exit(0);
    });
  });
}
