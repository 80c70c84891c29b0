import { defineConfig } from 'tsup';
import { exampleBuild } from '../../tsup.base';

export default defineConfig(exampleBuild());
