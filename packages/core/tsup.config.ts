import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig([
  // Browsers and bundlers: tfjs stays external, so the app's single tfjs-core copy is used, and
  // the bundler resolves tfjs-core's gradient registration module itself.
  packageBuild({ clean: false, outDir: 'dist' }),
  // Node: tfjs-core's `main` is a CJS bundle without gradients, and its ESM gradient module cannot be
  // loaded by Node (extensionless imports), so this build inlines that module. The inlined gradient
  // code runs ops through tfjs's process-global engine and registries, which the app's copy shares.
  {
    ...packageBuild({ clean: false, dts: false, outDir: 'dist/node', platform: 'node', noExternal: [/register_all_gradients/] }),
    external: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'],
  },
]);
