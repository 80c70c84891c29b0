#!/usr/bin/env node
// `pnpm start -- --tokenizer titok:<folder> --generator <folder> --classes 207,360`: samples token
// sequences with the MaskGIT generator, decodes them with the tokenizer and writes one PNG per image
// (per frame for video tokenizers). VTOK_BACKEND=cpu|wasm|webgpu picks a backend (default: the best here).
import { useBackend } from '@vtok/core';
import { wasm } from '@vtok/backend-wasm';
import { webgpu } from '@vtok/backend-webgpu';
import { runCli } from './cli';

try {
  const forced = process.env.VTOK_BACKEND;
  const info = await useBackend(forced ? forced : [webgpu(), wasm(), 'cpu']);
  console.log(`backend: ${info.name} on ${info.device}`);
  await runCli(process.argv.slice(2), (line) => console.log(line));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
