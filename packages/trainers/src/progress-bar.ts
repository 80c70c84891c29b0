/**
 * A one-line progress bar on stderr for training in a terminal: the step, a bar, the latest logged loss,
 * steps per second and the time left. Redrawn at most ten times a second.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private logs: Record<string, number> = {};
  private firstStep: number | undefined;

  constructor(
    private readonly total: number,
    private readonly write: (text: string) => void = (text) => (globalThis as { process?: { stderr?: { write(s: string): void } } }).process?.stderr?.write(text),
    private readonly width = 24,
  ) {}

  update(step: number, logs?: Record<string, number>): void {
    this.firstStep ??= step - 1;
    if (logs) this.logs = logs;
    const now = Date.now();
    if (now - this.lastDraw < 100 && step < this.total) return;
    this.lastDraw = now;
    this.write(`\r${this.line(step, now)}\x1b[K`);
  }

  finish(): void {
    if (this.lastDraw) this.write('\n');
  }

  /** The text of the bar at `step` (exported for tests through the class). */
  line(step: number, now = Date.now()): string {
    const fraction = Math.min(1, step / this.total);
    const filled = Math.round(fraction * this.width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}`;
    const seconds = (now - this.started) / 1000;
    const done = step - (this.firstStep ?? 0);
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (this.total - step) / rate : NaN;
    const loss = Object.entries(this.logs).find(([k]) => /(^|\.)loss$/.test(k));
    const parts = [`step ${step}/${this.total}`, bar];
    if (loss) parts.push(`${loss[0]} ${formatNumber(loss[1])}`);
    if (rate > 0) parts.push(`${rate >= 1 ? rate.toFixed(1) : rate.toFixed(2)} step/s`);
    if (Number.isFinite(eta) && step < this.total) parts.push(`${formatDuration(eta)} left`);
    return parts.join('  ');
  }
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
