import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// ESM only: the CLI reads its own package.json through import.meta.url, and Node 20 users `require()` ESM.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/bin.ts'], format: ['esm'] }));
