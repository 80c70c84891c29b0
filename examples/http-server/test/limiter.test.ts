import { describe, expect, it } from 'vitest';
import { Busy, Limiter } from '../src/limiter';

/** A job that runs until its `finish` is called, recording when it started. */
function job(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, run: async () => (log.push(name), await done, name) };
}

describe('Limiter', () => {
  it('runs at most `concurrency` jobs, lets `queue` wait in arrival order, and turns the rest away', async () => {
    const limiter = new Limiter({ concurrency: 2, queue: 2 });
    const log: string[] = [];
    const jobs = ['a', 'b', 'c', 'd'].map((n) => job(log, n));
    const results = jobs.map((j) => limiter.run(j.run));
    await Promise.resolve();
    expect(log).toEqual(['a', 'b']);
    expect(limiter.stats).toEqual({ running: 2, waiting: 2 });
    await expect(limiter.run(async () => 'e')).rejects.toThrow(new Busy(2, 2));

    jobs[1]!.finish();
    await results[1];
    await Promise.resolve();
    expect(log).toEqual(['a', 'b', 'c']); // the first in line, not a newcomer
    expect(limiter.stats).toEqual({ running: 2, waiting: 1 });

    const idle = limiter.idle();
    for (const j of jobs) j.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    await idle;
    expect(limiter.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a job that fails', async () => {
    const limiter = new Limiter({ concurrency: 1, queue: 0 });
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('says what it expected of its options', () => {
    expect(() => new Limiter({ concurrency: 0, queue: 1 })).toThrow('concurrency must be an integer ≥ 1, got 0');
    expect(() => new Limiter({ concurrency: 1, queue: 1.5 })).toThrow('queue must be an integer ≥ 0, got 1.5');
  });
});
