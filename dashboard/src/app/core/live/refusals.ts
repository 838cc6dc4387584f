import { backoffDelay } from '@pulse/protocol/core';
import type { BackoffOptions } from '@pulse/protocol/core';

/** The first retry of a refused subscribe waits this long (ms). */
export const RETRY_MS = 2000;

/**
 * A refused subscribe (a watch, the fleet summary, a batch of tiles) is asked again after
 * RETRY_MS, then twice as long each time up to a minute, ±25 %: a refusal that lasts (too many
 * rooms, not allowed) is not asked every 2 s forever, and screens refused together (`busy`
 * under a reconnect storm) do not ask again in step.
 */
export const RETRY_BACKOFF: BackoffOptions = {
  baseMs: RETRY_MS,
  maxMs: 60_000,
  factor: 2,
  jitterMin: 0.75,
  jitterMax: 1.25,
};

/**
 * Refusals in a row of one subscription: how long to wait before asking again, and whether to
 * say so (each kind of refusal is warned once in a row, not on every retry).
 */
export class Refusals {
  private count = 0;
  private last: string | null = null;

  /** Counts a refusal with `error`: the wait before asking again (ms), and whether to warn. */
  refused(error: string, random: number): { delayMs: number; warn: boolean } {
    this.count++;
    const warn = error !== this.last;
    this.last = error;
    return { delayMs: backoffDelay(this.count, random, RETRY_BACKOFF), warn };
  }

  /** An answer came: the next refusal waits RETRY_MS again, and is warned. */
  answered(): void {
    this.count = 0;
    this.last = null;
  }
}
