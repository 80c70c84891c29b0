import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// shims: the CJS build gets an import.meta.url, which finds the models/ folder next to dist/.
export default defineConfig(packageBuild({ shims: true }));
