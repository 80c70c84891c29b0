import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// `webgpu` (Dawn) is an optional peer, loaded at run time in Node only.
export default defineConfig(packageBuild({ external: ['webgpu'] }));
