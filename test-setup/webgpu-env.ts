import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * Decides whether the WebGPU tests can run here. On machines without a GPU, Dawn needs a Vulkan
 * driver: Debian's chromium package ships SwiftShader's (a CPU Vulkan implementation).
 * VTOK_REQUIRE_WEBGPU=1 (CI) turns "cannot run" into a hard failure instead of a notice.
 */
export function webgpuTestEnvironment(): {
  ok: boolean;
  reason?: string;
  env: Record<string, string>;
  chromium?: string;
} {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  const icd = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
  const hasVulkanDriver = existsSync(icd) || existsSync('/usr/share/vulkan/icd.d') || existsSync('/etc/vulkan/icd.d');
  const env: Record<string, string> = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() };
  if (existsSync(icd)) env.VK_ICD_FILENAMES = icd;
  const ok = hasVulkanDriver;
  const reason = ok ? undefined : `no Vulkan driver found (install Debian's "chromium" package for SwiftShader, or a GPU driver)`;
  if (!ok && process.env.VTOK_REQUIRE_WEBGPU === '1') {
    throw new Error(`VTOK_REQUIRE_WEBGPU=1 but WebGPU cannot be tested: ${reason}`);
  }
  return { ok, reason, env, chromium };
}
