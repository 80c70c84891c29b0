/** `vtok backends`: each backend, whether it can run here, and if not why and how to install it. */
import type { Command } from '../command';
import { probeAllBackends } from '../backend';
import { ExitCode } from '../exit-codes';

export const backendsCommand: Command = {
  name: 'backends',
  summary: 'list the backends, whether each can run here, and how to install the missing ones',
  usage: 'usage: vtok backends [--json]\n\n`auto` takes the first available one in this order (webgpu on a software adapter only after the CPU backends).',
  options: {},
  async run(_parsed, { output }) {
    const backends = await probeAllBackends();
    output.result({ backends });
    for (const b of backends) {
      output.line(`${b.name.padEnd(7)} ${b.ok ? 'available' : `not available: ${b.reason}`}`);
      if (b.install) output.line(`        install with: ${b.install}`);
    }
    return ExitCode.Success;
  },
};
