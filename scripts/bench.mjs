#!/usr/bin/env node
// Runs every benchmark file (packages/*/bench/*.bench.mjs, examples/*/bench/*.bench.mjs) once per backend, each backend in its own
// process, writes one JSON file per benchmark under bench-results/, and prints a table.
//
//   node scripts/bench.mjs [--backends cpu,wasm,webgpu] [--filter text] [--quick] [--timeout-minutes 90]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { webgpuTestEnvironment } from './webgpu-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    backends: { type: 'string' },
    filter: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'bench-results') },
    // A benchmark process that runs longer than this is stopped and reported as failed.
    'timeout-minutes': { type: 'string', default: '90' },
  },
});

// Benchmarks live in each package's bench/ folder, and in examples/*/bench/ for pipelines that pair packages.
const benchFiles = (group) =>
  readdirSync(join(root, group)).flatMap((dir) => {
    const bench = join(root, group, dir, 'bench');
    return existsSync(bench) ? readdirSync(bench).filter((f) => f.endsWith('.bench.mjs')).map((f) => join(bench, f)) : [];
  });
const files = [...benchFiles('packages'), ...benchFiles('examples')].filter((f) => !values.filter || f.includes(values.filter));

// Dawn on machines without a GPU driver needs SwiftShader's Vulkan ICD and loader (Debian's chromium).
const webgpuEnv = (() => {
  try {
    return webgpuTestEnvironment().env;
  } catch {
    return {};
  }
})();
const childEnv = { ...process.env, ...webgpuEnv };

// Which backends can run here: ask core (built) in a child so this process stays backend-free.
const probe = spawnSync(process.execPath, [join(root, 'scripts', 'bench-worker.mjs'), '--probe'], { encoding: 'utf8', cwd: root, env: childEnv });
const available = probe.status === 0 ? JSON.parse(probe.stdout.trim().split('\n').pop()) : [{ name: 'cpu', ok: true }];
const wanted = values.backends ? values.backends.split(',') : ['cpu', 'wasm', 'webgpu', 'cuda'];
const backends = [];
for (const b of wanted) {
  const a = available.find((x) => x.name === b) ?? { name: b, ok: b === 'cpu' };
  if (a.ok) backends.push(b);
  else console.log(`skipping backend ${b}: ${a.reason}`);
}

mkdirSync(values.out, { recursive: true });
const table = [];
for (const file of files) {
  const results = [];
  for (const backend of backends) {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'bench-worker.mjs'), file, backend, values.quick ? '--quick' : ''], {
      cwd: root,
      env: childEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: Number(values['timeout-minutes']) * 60_000,
    });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !last.startsWith('{')) {
      results.push({ backend, error: r.error ? `stopped: ${r.error.message}` : `exited with ${r.status ?? r.signal}` });
      table.push({ bench: relative(root, file), backend, case: '(failed)', ms: NaN, gflops: NaN });
      continue;
    }
    const out = JSON.parse(last);
    results.push(out);
    for (const row of out.rows) table.push({ bench: relative(root, file), backend, device: out.device, ...row });
  }
  const name = relative(root, file).replace(/^packages\//, '').replace(/^examples\//, 'example-').replace(/\/bench\//, '-').replace(/\.bench\.mjs$/, '');
  const path = join(values.out, `${name}.json`);
  writeFileSync(path, JSON.stringify({ file: relative(root, file), date: new Date().toISOString(), results }, null, 2));
  console.log(`wrote ${relative(root, path)}`);
}

const devices = new Map();
for (const r of table) if (r.device) devices.set(r.backend, r.device);
for (const [backend, device] of devices) console.log(`${backend}: ${device}`);
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const lines = [['benchmark', 'backend', 'case', 'ms', 'GFLOP/s', 'per s', 'peak MB']];
for (const r of table) {
  lines.push([r.bench.replace(/^packages\//, ''), r.backend, r.case, fmt(r.ms, 1), fmt(r.gflops), fmt(r.perSecond), fmt(r.peakBytes / 2 ** 20, 1)]);
}
const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
for (const l of lines) console.log(l.map((c, i) => String(c).padEnd(widths[i])).join('  '));
