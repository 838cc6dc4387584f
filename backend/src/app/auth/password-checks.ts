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
 * Checks that may wait for a slot: a few people signing in at the same moment (a shift change,
 * a wall of screens after a restart) wait their turn, tens of ms each, instead of being told
 * "busy"; past these, a flood is refused at once.
 */
export const PASSWORD_CHECKS_WAITING = 8;

/**
 * A bound on password checks in flight, with a short bounded line for a slot: past `max`
 * running and `waiting` in line a check is not run at all (the caller answers "busy, try
 * again" at once) rather than queued, so a flood costs the gateway no more than `max` checks
 * at a time and at most `waiting` logins pile up. Owns the count and the line only; must not
 * decide what a check is or who is refused (LoginService).
 */
export class PasswordChecks {
  private running = 0;
  private readonly line: (() => void)[] = [];

  constructor(
    readonly max: number,
    readonly waiting = PASSWORD_CHECKS_WAITING,
  ) {}

  /** Checks running now. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Runs `check` now, or once a running one ends while fewer than `waiting` are in line;
   * returns null without running it when the line is full.
   */
  run<T>(check: () => Promise<T>): Promise<T> | null {
    if (this.running < this.max) {
      this.running++;
      return this.settle(check);
    }
    if (this.line.length >= this.waiting) return null;
    return new Promise<void>((resolve) => this.line.push(resolve)).then(() => this.settle(check));
  }

  /** Runs `check` in a slot already counted, and hands the slot to the next in line. */
  private async settle<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } finally {
      const next = this.line.shift();
      if (next) next();
      else this.running--;
    }
  }
}
