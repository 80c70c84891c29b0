/**
 * How commands print: text lines for people, or one JSON document with `--json` (for scripts: nothing
 * else goes to stdout then). Progress bars go to stderr and only when stderr is a terminal and `--json`
 * is off, so logs and pipes never fill with carriage returns.
 */
import type { CliIO } from './command';

export interface Output {
  readonly json: boolean;
  /** A line of text for people (stdout); dropped with --json. */
  line(text?: string): void;
  /** A note on stderr (warnings, what a long step is doing); kept with --json. */
  note(text: string): void;
  /** The command's result: printed as JSON with --json (one document), else ignored (commands print lines). */
  result(value: unknown): void;
  /** A progress bar for `total` steps labelled `label`; a no-op unless stderr is a terminal and --json is off. */
  progress(label: string, total: number): Progress;
}

export interface Progress {
  /** `done` steps of the total are finished. */
  update(done: number): void;
  /** Clears the bar. */
  finish(): void;
}

const noProgress: Progress = { update() {}, finish() {} };

export function createOutput(io: CliIO, json: boolean): Output {
  const showProgress = !json && io.stderr.isTTY === true;
  return {
    json,
    line(text = '') {
      if (!json) io.stdout.write(`${text}\n`);
    },
    note(text) {
      io.stderr.write(`${text}\n`);
    },
    result(value) {
      if (json) io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    progress(label, total) {
      return showProgress ? terminalBar(io, label, total) : noProgress;
    },
  };
}

function terminalBar(io: CliIO, label: string, total: number): Progress {
  const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - 20));
  const started = performance.now();
  const draw = (done: number) => {
    const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : width;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${seconds}s`);
  };
  draw(0);
  return {
    update: draw,
    finish() {
      io.stderr.write(`\r${' '.repeat(label.length + width + 24)}\r`);
    },
  };
}
