/**
 * A concurrency limit with a bounded waiting line: at most `concurrency` jobs run at once, at most
 * `queue` more wait for a turn, and anything beyond is turned away at once (the server answers 503)
 * rather than piling up work and memory it cannot finish.
 */
export class Busy extends Error {
  constructor(readonly running: number, readonly waiting: number) {
    super(`busy: ${running} generations running and ${waiting} waiting`);
    this.name = 'Busy';
  }
}

export interface LimiterOptions {
  /** Jobs that run at once (≥ 1). */
  concurrency: number;
  /** Jobs that may wait for a turn (≥ 0). */
  queue: number;
}

export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(readonly options: LimiterOptions) {
    const { concurrency, queue } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
    if (!Number.isInteger(queue) || queue < 0) throw new RangeError(`queue must be an integer ≥ 0, got ${queue}`);
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `job` when a slot is free; throws `Busy` without running it when the line is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrency) {
      if (this.waiting.length >= this.options.queue) throw new Busy(this.running, this.waiting.length);
      // The finishing job hands its slot over directly (running stays counted), so no newcomer can jump the line.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else if (--this.running === 0) this.notifyIdle();
    }
  }

  /** Resolves once nothing runs and nothing waits (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
