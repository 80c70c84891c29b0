import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * Decides whether the WebGPU tests can run here. On machines without a GPU, Dawn needs a Vulkan
 * driver: Debian's chromium package ships SwiftShader's (a CPU Vulkan implementation).
 * VTOK_REQUIRE_WEBGPU=1 (CI) turns "cannot run" into a hard failure instead of a notice.
 * Shared by vitest.config.ts (the webgpu test project) and scripts/bench.mjs.
 */
/** @returns {{ ok: boolean, reason?: string, env: Record<string, string>, chromium?: string }} */
export function webgpuTestEnvironment() {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  const icd = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
  const hasVulkanDriver = existsSync(icd) || existsSync('/usr/share/vulkan/icd.d') || existsSync('/etc/vulkan/icd.d');
  /** @type {Record<string, string>} */
  const env = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() };
  if (existsSync(icd)) env.VK_ICD_FILENAMES = icd;
  // Dawn also needs the Vulkan loader (libvulkan.so.1, Debian's libvulkan1). Where the system has
  // none, Debian's chromium ships one next to SwiftShader: the worker processes get it through
  // LD_LIBRARY_PATH (read at process start, so it must be in the project's env, not set later).
  const loaderDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
  const ldPath = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const hasLoader = [...ldPath, ...loaderDirs].some((d) => existsSync(`${d}/libvulkan.so.1`));
  if (!hasLoader && existsSync('/usr/lib/chromium/libvulkan.so.1')) env.LD_LIBRARY_PATH = ['/usr/lib/chromium', ...ldPath].join(':');
  const ok = hasVulkanDriver && (hasLoader || env.LD_LIBRARY_PATH != null);
  const reason = ok
    ? undefined
    : hasVulkanDriver
      ? 'no Vulkan loader libvulkan.so.1 found (apt-get install libvulkan1, or Debian\'s "chromium" package, which ships one)'
      : `no Vulkan driver found (install Debian's "chromium" package for SwiftShader, or a GPU driver)`;
  if (!ok && process.env.VTOK_REQUIRE_WEBGPU === '1') {
    throw new Error(`VTOK_REQUIRE_WEBGPU=1 but WebGPU cannot be tested: ${reason}`);
  }
  return { ok, reason, env, chromium };
}
