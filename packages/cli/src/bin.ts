#!/usr/bin/env node
// The `vtok` executable: runs the command line and exits with its code. Ctrl-C aborts the running
// command (exit 130 once it has stopped); a second Ctrl-C exits at once.
import { ExitCode } from './exit-codes';
import { processIO, runCli } from './main';

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
  controller.abort();
});

const code = await runCli(process.argv.slice(2), processIO(controller.signal));
process.exitCode = code;
// A backend may hold handles (worker threads, a GPU device) that keep Node alive after the work is done:
// give stdout a moment to drain, then leave.
setTimeout(() => process.exit(code), 1000).unref();
