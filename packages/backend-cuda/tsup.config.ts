import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// tfjs-node-gpu is an optional peer loaded at run time (kept external with the rest of @tensorflow/*).
export default defineConfig(packageBuild());
