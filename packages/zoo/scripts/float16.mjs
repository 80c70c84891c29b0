#!/usr/bin/env node
// `node packages/zoo/scripts/float16.mjs <model folder>...`: rewrites each folder's model.safetensors with its
// float32 tensors stored as float16 (half the bytes; the loaders widen them back to float32), atomically.
// The zoo's TiTok models ship this way to keep the package small; their cards are measured after it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, saveFile, writeSafetensors } from '@vtok/core';

const folders = process.argv.slice(2);
if (!folders.length) {
  console.error('usage: node packages/zoo/scripts/float16.mjs <model folder>...');
  process.exit(2);
}
for (const folder of folders) {
  const file = join(folder, 'model.safetensors');
  const before = await readFile(file);
  const { tensors, metadata } = readSafetensors(before);
  const after = await writeSafetensors(tensors, metadata, { float: 'F16' });
  await saveFile(file, after);
  console.log(`${file}: ${before.byteLength} → ${after.byteLength} bytes`);
}
