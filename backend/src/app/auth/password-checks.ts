import { availableParallelism } from 'node:os';

/**
 * How many password checks may run at once in this gateway. Each is an argon2id check (19 MiB,
 * tens of ms of a core) that @node-rs/argon2 runs on libuv's threadpool (UV_THREADPOOL_SIZE, 4
 * by default), the pool that file system calls and DNS lookups wait for too. Unbounded, a flood
 * of logins queued hundreds of checks there and took every core from the event loop: /api/health
 * answered in seconds and live readings paused. At most 4, and at least one core and one pool
 * thread left for the rest: 1 on a 2-core machine, 3 on 4 cores, 4 from 5 cores
 * (docs/decisions/0062-login-budgets.md).
 */
export function passwordChecksMax(
  cores = availableParallelism(),
  threadpool = Number(process.env['UV_THREADPOOL_SIZE']) || 4,
): number {
  return Math.max(1, Math.min(4, cores - 1, threadpool - 1));
}

/**
 * A bound on password checks in flight: over it a check is not run at all (the caller answers
 * "busy, try again" at once) rather than queued, so a flood costs the gateway no more than
 * `max` checks at a time and a waiting login cannot pile up. Owns the count only; must not
 * decide what a check is or who is refused (LoginService).
 */
export class PasswordChecks {
  private running = 0;

  constructor(readonly max: number) {}

  /** Checks running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Runs `check` now, or returns null without running it while `max` checks are running. */
  run<T>(check: () => Promise<T>): Promise<T> | null {
    if (this.running >= this.max) return null;
    this.running++;
    return this.settle(check);
  }

  private async settle<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } finally {
      this.running--;
    }
  }
}
