import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// shims: import.meta.url in the CJS build (used to find the .wasm files in Node).
export default defineConfig(packageBuild({ shims: true }));
