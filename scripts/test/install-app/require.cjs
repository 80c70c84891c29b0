// CommonJS users: every installed package that offers a `require` entry loads through require() with
// its exports present, and the zoo finds its shipped weights from CommonJS as well. Prints one JSON line.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

(async () => {
  const scope = join(__dirname, 'node_modules', '@vtok');
  const loaded = {};
  for (const dir of readdirSync(scope)) {
    const manifest = JSON.parse(readFileSync(join(scope, dir, 'package.json'), 'utf8'));
    if (!JSON.stringify(manifest.exports ?? {}).includes('"require"')) continue;
    loaded[manifest.name] = Object.keys(require(manifest.name)).length;
  }
  const { wasm } = require('@vtok/backend-wasm');
  const { useBackend } = require('@vtok/core');
  const { loadPretrained } = require('@vtok/zoo');
  await useBackend([wasm()]);
  const tokenizer = await loadPretrained('digits-vqgan');
  const zoo = { tokens: tokenizer.tokens };
  tokenizer.dispose();
  console.log(JSON.stringify({ loaded, zoo }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
