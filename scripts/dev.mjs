#!/usr/bin/env node
// Entry point for the root scripts. It needs only Node >= 20 and npm: it installs the workspace
// with the pinned pnpm (a private copy under .vtok/ when pnpm is not on PATH), then runs the tools
// from node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const bin = (name) => join(root, 'node_modules', '.bin', name);

// Child processes (turbo runs each package's script through pnpm) see the pnpm found or bootstrapped here.
const env = { ...process.env };

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Puts the pinned pnpm on PATH: the one installed, or a private copy installed with npm. */
function ensurePnpm() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) return;
  const prefix = join(root, '.vtok', `pnpm-${pnpmVersion}`);
  const binDir = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(binDir, 'pnpm'))) {
    console.log(`[vtok] installing pnpm ${pnpmVersion} for this checkout (into ${prefix})`);
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, `pnpm@${pnpmVersion}`]);
  }
  env.PATH = `${binDir}${delimiter}${env.PATH ?? ''}`;
}

function pnpm(args) {
  run('pnpm', args);
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
    const results = join(root, '.vtok', 'test-results.json');
    rmSync(results, { force: true });
    const r = spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...args], {
      cwd: root,
      stdio: 'inherit',
      env,
    });
    // One plain closing line that any CI can read, whatever the reporter printed above.
    if (existsSync(results)) {
      const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(readFileSync(results, 'utf8'));
      console.log(`\nvitest: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
    }
    if (r.error) throw r.error;
    if (r.status !== 0) process.exit(r.status ?? 1);
  },
  // The quick start: `vtok demo` (the zoo's digits models on the best backend here), after building the CLI
  // and what it depends on (turbo's cache makes that a no-op when nothing changed). It runs in the folder npm
  // was started from, so `--out` and the default demo-out/ land where the user is.
  demo: (args) => {
    turbo('build', '--filter=@vtok/cli...');
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const r = spawnSync(process.execPath, [join(root, 'packages', 'cli', 'dist', 'bin.js'), 'demo', ...args], { cwd, stdio: 'inherit', env });
    if (r.error) throw r.error;
    if (r.status !== 0) process.exit(r.status ?? 1);
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
ensurePnpm();
ensureInstalled();
command(rest);
