/*
 * Retry delays that grow: exponential backoff with jitter, one pure function and a small
 * attempt counter around it. Used by the gateway (broker reconnects) and the dashboard (live
 * reconnects, whose UI shows the exact moment of the next try). Owns the arithmetic only:
 * timers, and what counts as a failed attempt, belong to the callers.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  baseMs: number;
  /** Upper bound of any delay (ms). */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /**
   * The delay is the grown delay times a factor drawn uniformly from
   * [`jitterMin`, `jitterMax`), capped at `maxMs`. 0.5..1 is "equal jitter"
   * (never longer than the schedule); 0.8..1.2 is ±20 %.
   */
  jitterMin: number;
  jitterMax: number;
}

/**
 * The dashboard's live reconnects. Equal jitter: half of each delay is random, spreading clients
 * that reconnect together. At most 10 s (5–10 s once grown): a wall screen is back within 10 s
 * of its gateway's return however long it was away (with 30 s, a 20 s outage left walls on
 * "connection lost" for up to 30 s more; an operator measured 29.6 s). The price: a screen asks
 * every 5–10 s while the gateway is down, each attempt refused at the proxy or the socket.
 */
export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 1000,
  maxMs: 10_000,
  factor: 2,
  jitterMin: 0.5,
  jitterMax: 1,
};

/**
 * Delay before retry number `attempt` (1-based). `random` is a value in [0, 1),
 * injected so tests are deterministic. The schedule grows as
 * `base * factor^(attempt-1)` up to `maxMs`; the jitter spreads retrying
 * clients so a restarted server is not hit by all at once.
 */
export function backoffDelay(
  attempt: number,
  random: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const grown = options.baseMs <= 0 ? 0 : options.baseMs * Math.pow(options.factor, n - 1);
  const raw = Math.min(options.maxMs, grown);
  const r = Math.min(1, Math.max(0, random));
  const spread = options.jitterMin + (options.jitterMax - options.jitterMin) * r;
  return Math.min(options.maxMs, Math.round(raw * spread));
}

/**
 * Counts attempts for a link that retries until it is up again (the gateway's broker
 * connection): base, 2×base, 4×base … up to max, ±20 % so a fleet of gateways does not
 * hammer a recovering broker in step. `reset()` once connected.
 */
export class Backoff {
  private attempt = 0;
  private readonly options: BackoffOptions;

  constructor(
    baseMs = 1000,
    maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {
    this.options = { baseMs, maxMs, factor: 2, jitterMin: 0.8, jitterMax: 1.2 };
  }

  next(): number {
    this.attempt++;
    return backoffDelay(this.attempt, this.random(), this.options);
  }

  reset(): void {
    this.attempt = 0;
  }
}
