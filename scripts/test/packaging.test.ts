// What a person installing a vtok package from npm sees: the manifest's fields, the licence, the
// README's links and the files the tarball really holds. Covers every non-private package under
// packages/*, so a new package is checked without being named here. Needs built packages (dist/).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryPoints, packPackage, publishablePackages, readTarball, repositoryUrl, root } from '../packages.mjs';

const repo = repositoryUrl();
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const packages = publishablePackages();
const packDir = mkdtempSync(join(tmpdir(), 'vtok-pack-'));
afterAll(() => rmSync(packDir, { recursive: true, force: true }));

/** Markdown link targets: inline `[text](target)` and reference definitions `[name]: target`. */
function markdownLinks(markdown: string): string[] {
  const inline = [...markdown.matchAll(/\]\(\s*<?([^)\s>]+)/g)].map((m) => m[1]!);
  const references = [...markdown.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  const html = [...markdown.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
  return [...inline, ...references, ...html];
}

describe('the repository', () => {
  it('holds the full Apache License 2.0 text', () => {
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    const sections = ['Definitions', 'Grant of Copyright License', 'Grant of Patent License', 'Redistribution',
      'Submission of Contributions', 'Trademarks', 'Disclaimer of Warranty', 'Limitation of Liability',
      'Accepting Warranty or Additional Liability'];
    sections.forEach((title, i) => expect(license).toContain(`${i + 1}. ${title}.`));
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it('finds every published package, the new ones included', () => {
    const names = packages.map((p) => p.manifest.name);
    expect(names).toEqual(expect.arrayContaining(['@vtok/core', '@vtok/quantizers', '@vtok/titok', '@vtok/magvit2',
      '@vtok/maskgit', '@vtok/trainers', '@vtok/backend-wasm', '@vtok/backend-webgpu', '@vtok/backend-cuda', '@vtok/zoo', '@vtok/cli']));
    expect(names).not.toContain('@vtok/test-utils');
  });
});

describe.each(packages)('$manifest.name', ({ dir, manifest }) => {
  it('says where it comes from, how it is licensed and what it runs on', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${repo}.git`, directory: dir });
    expect(manifest.homepage).toBe(`${repo}/tree/main/${dir}#readme`);
    expect(manifest.bugs).toEqual({ url: `${repo}/issues` });
    expect(manifest.keywords).toEqual(expect.arrayContaining(['vtok']));
    expect(manifest.engines?.node).toMatch(/^>=\d+/);
    expect(manifest.description?.length).toBeGreaterThan(20);
    expect(manifest.publishConfig).toEqual({ access: 'public' });
  });

  it('links from its README only to absolute URLs or anchors, and its links into the repository exist', () => {
    const file = join(root, dir, 'README.md');
    expect(existsSync(file), `${dir} has no README.md, the npm page would be empty`).toBe(true);
    const readme = readFileSync(file, 'utf8');
    for (const link of markdownLinks(readme)) {
      expect(link, `${dir}/README.md links to "${link}", which breaks on the npm page`).toMatch(/^(https?:\/\/|#|mailto:)/);
      const own = link.match(new RegExp(`^${repo.replace(/[.]/g, '\\.')}/(?:blob|tree)/main/([^#?]+)`));
      if (own) expect(existsSync(join(root, decodeURIComponent(own[1]!))), `${link} points at nothing in the repository`).toBe(true);
    }
  });

  it('packs into a tarball with the licence, the README and every entry point', () => {
    const files = readTarball(packPackage(dir, packDir));
    expect(files.get('LICENSE')?.toString('utf8'), 'the tarball carries the root LICENSE unchanged').toBe(license);
    expect(files.has('README.md')).toBe(true);
    for (const entry of entryPoints(manifest)) expect(files.has(entry), `${entry} (run the build first)`).toBe(true);
    const packed = files.get('package.json')!.toString('utf8');
    expect(packed, 'workspace: and catalog: ranges are rewritten to versions').not.toMatch(/"(workspace|catalog):/);
  });
});
