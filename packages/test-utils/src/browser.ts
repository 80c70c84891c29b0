/**
 * Driving Debian's headless Chromium from tests: the flags that give WebGPU on SwiftShader with no
 * network, and a page bundled from our sources (every @vtok/* package resolves to its src/, as in the
 * vitest config) served from a loopback server, so browser tests exercise the same code as Node ones.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const CHROMIUM_PATH = process.env.VTOK_CHROMIUM ?? '/usr/bin/chromium';

/**
 * --no-sandbox (running as root) and --enable-unsafe-webgpu (WebGPU on Linux, and the fallback
 * adapter) are needed; the adapter and Vulkan flags make the choice explicit; the rest keep the
 * browser off the network.
 */
export const CHROMIUM_WEBGPU_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_WEBGPU_ARGS });
}

/** Every workspace package by name → its src/index.ts. */
function workspaceAliases(): Record<string, string> {
  const packages = join(REPO_ROOT, 'packages');
  return Object.fromEntries(
    readdirSync(packages)
      .filter((dir) => existsSync(join(packages, dir, 'src', 'index.ts')))
      .map((dir) => [`@vtok/${dir}`, join(packages, dir, 'src', 'index.ts')]),
  );
}

/** Bundles a page script (ESM, for the browser) from our sources; returns its JavaScript text. */
export async function bundlePage(entry: string): Promise<string> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    alias: workspaceAliases(),
  });
  return bundle.outputFiles[0].text;
}

/** The HTML of a page that runs one module script. */
export const pageHtml = (title: string, script = '/page.js') =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="${script}"></script>`;
