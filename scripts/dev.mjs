#!/usr/bin/env node
// Entry point for the root scripts. It needs only Node >= 20 and npm: it installs the workspace
// with the pinned pnpm (through npx when pnpm is not on PATH), then runs the tools from node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function pnpm(args) {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) run('pnpm', args);
  else run('npx', ['--yes', `pnpm@${pnpmVersion}`, ...args]);
}

function ensureInstalled() {
  if (!existsSync(join(root, 'node_modules', '.modules.yaml'))) pnpm(['install', '--frozen-lockfile']);
}

const turbo = (...tasks) => run(bin('turbo'), ['run', ...tasks, '--output-logs=errors-only']);

const commands = {
  setup: () => ensureInstalled(),
  build: () => turbo('build'),
  typecheck: () => turbo('typecheck'),
  lint: () => turbo('lint'),
  // The whole suite: build every package, check its exports and types, then run every test
  // project (one per backend available here; see vitest.config.ts).
  test: (args) => {
    turbo('build', 'lint', 'typecheck');
    run(bin('vitest'), ['run', ...args]);
  },
  demo: (args) => {
    turbo('build');
    run(process.execPath, [join(root, 'examples', 'demo', 'src', 'main.mjs'), ...args]);
  },
  bench: (args) => {
    turbo('build');
    run(process.execPath, [join(root, 'scripts', 'bench.mjs'), ...args]);
  },
};

const [name = 'test', ...rest] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  console.error(`unknown command "${name}"; expected one of: ${Object.keys(commands).join(', ')}`);
  process.exit(2);
}
ensureInstalled();
command(rest);
