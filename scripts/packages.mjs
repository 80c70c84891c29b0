// The workspace's published packages as a release sees them: which they are, and their `pnpm pack`
// tarballs read back in memory. Used by the packaging checks and the install test (scripts/test/).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const root = join(import.meta.dirname, '..');

/** The repository every package points to, as named once in the root package.json ("git+https://…/x.git" → "https://…/x"). */
export function repositoryUrl() {
  const { repository } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
}

/** Every package under packages/* that is not private: `{ dir: 'packages/core', manifest }`. */
export function publishablePackages() {
  return readdirSync(join(root, 'packages'))
    .map((name) => join('packages', name))
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private);
}

// pnpm from PATH, or the private copy scripts/dev.mjs installs when PATH has none.
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmEnv = {
  ...process.env,
  PATH: [join(root, '.vtok', packageManager.replace('@', '-'), 'node_modules', '.bin'), process.env.PATH].join(delimiter),
};

/** Packs one package with pnpm (which rewrites workspace: and catalog: ranges as publish does); returns the tarball's path. */
export function packPackage(dir, destination) {
  const r = spawnSync('pnpm', ['pack', '--pack-destination', destination], { cwd: join(root, dir), encoding: 'utf8', env: pnpmEnv });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`pnpm pack failed in ${dir} (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.trim().endsWith('.tgz'));
  if (!line) throw new Error(`pnpm pack in ${dir} printed no tarball path:\n${r.stdout}`);
  return line.trim();
}

/** The files of a .tgz as a map from path (without npm's leading "package/") to contents. */
export function readTarball(file) {
  const tar = gunzipSync(readFileSync(file));
  const files = new Map();
  const text = (from, length) => tar.subarray(from, from + length).toString('utf8').replace(/\0.*$/s, '');
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const name = text(offset, 100);
    if (!name) break; // the two zero blocks that end the archive
    const size = Number.parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = text(offset + 156, 1);
    const prefix = text(offset + 345, 155);
    const path = (prefix ? `${prefix}/${name}` : name).replace(/^package\//, '');
    if (type === '0' || type === '') files.set(path, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every file a manifest points at (main, module, types, bin, exports' targets), as tarball paths. */
export function entryPoints(manifest) {
  const targets = [manifest.main, manifest.module, manifest.types];
  if (typeof manifest.bin === 'string') targets.push(manifest.bin);
  else if (manifest.bin) targets.push(...Object.values(manifest.bin));
  const walk = (node) => {
    if (typeof node === 'string') targets.push(node);
    else if (node && typeof node === 'object') Object.values(node).forEach(walk);
  };
  walk(manifest.exports);
  return [...new Set(targets.filter((t) => typeof t === 'string' && !t.includes('*')).map((t) => t.replace(/^\.\//, '')))];
}
