/**
 * Why Dawn found no adapter, in words a user can act on. Linux only: elsewhere the system's own
 * WebGPU/D3D/Metal stack is either there or not, and there is nothing specific to say.
 */
const importNode = (name: string): Promise<any> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

export const debianSwiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
export const debianChromiumLibDir = '/usr/lib/chromium';

export interface VulkanDiagnosis {
  /** Where libvulkan.so.1 was found, if anywhere. */
  loader?: string;
  /** The Vulkan driver manifests (ICDs) found. */
  icds: string[];
  hints: string[];
}

/** Looks for the Vulkan loader and drivers the way the loader would (Linux). */
export async function diagnoseVulkan(env: Record<string, string | undefined> = process.env): Promise<VulkanDiagnosis> {
  const fs = await importNode('node:fs');
  const { join } = await importNode('node:path');
  const exists = (p: string) => {
    try {
      return fs.existsSync(p) as boolean;
    } catch {
      return false;
    }
  };
  const libDirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  let loader = libDirs.map((d) => join(d, 'libvulkan.so.1')).find(exists);
  if (!loader) {
    try {
      if ((fs.readFileSync('/etc/ld.so.cache') as Buffer).includes('libvulkan.so.1')) loader = '/etc/ld.so.cache';
    } catch {
      // no cache: nothing to add
    }
  }

  const explicit = (env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES ?? '').split(':').filter(Boolean);
  let icds: string[];
  const hints: string[] = [];
  if (explicit.length) {
    icds = explicit.filter(exists);
    const missing = explicit.filter((p) => !exists(p));
    if (missing.length) hints.push(`VK_ICD_FILENAMES names files that do not exist: ${missing.join(', ')}`);
  } else {
    const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter(Boolean);
    const icdDirs = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => join(d, 'vulkan', 'icd.d'))];
    icds = icdDirs.flatMap((d) => {
      try {
        return (fs.readdirSync(d) as string[]).filter((f) => f.endsWith('.json')).map((f) => join(d, f));
      } catch {
        return [];
      }
    });
  }

  const haveChromium = exists(debianSwiftShaderIcd);
  if (!loader) {
    hints.push(
      'the Vulkan loader libvulkan.so.1 is not on the library path: install it (Debian/Ubuntu: apt-get install libvulkan1)' +
        (exists(join(debianChromiumLibDir, 'libvulkan.so.1')) ? `, or start Node with LD_LIBRARY_PATH=${debianChromiumLibDir} (Debian's chromium ships one)` : ''),
    );
  }
  if (!icds.length) {
    hints.push(
      'no Vulkan driver (ICD) was found: install the GPU vendor\'s Vulkan driver; on a machine without a GPU, ' +
        (haveChromium
          ? `set VK_ICD_FILENAMES=${debianSwiftShaderIcd} (SwiftShader, shipped by Debian's chromium)`
          : 'install Debian\'s chromium package and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader), or mesa-vulkan-drivers (lavapipe)'),
    );
  }
  return { loader, icds, hints };
}
