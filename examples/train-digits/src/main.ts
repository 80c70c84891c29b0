#!/usr/bin/env node
// `pnpm start -- [--out digits-run] [--quick] …`: trains a 2D VQ tokenizer (MaskGIT-VQGAN) and a class-conditional MaskGIT on MNIST
// digits, judges them (held-out PSNR; a classifier reading the generated digits) and writes report.json.
// --backend picks the backend (default auto: VTOK_BACKEND when set, else the fastest that starts; wasm on a CPU).
import { useBackend } from '@vtok/core';
import { parseOptions } from './options';
import { runDigits, summary } from './pipeline';

try {
  const options = parseOptions(process.argv.slice(2));
  // Backend packages are imported from here, where they are dependencies; wasm() also registers the
  // training kernels tfjs-wasm lacks.
  const info = await useBackend(options.backend, { importPackage: (name) => import(name) });
  console.log(`backend: ${info.name} on ${info.device}`);
  const report = await runDigits(options, (line) => console.log(line));
  console.log(`\n${summary(report)}`);
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
