/**
 * Reconnect delays: exponential backoff with "equal jitter".
 *
 * We run our own schedule instead of socket.io's built-in one because the UI
 * must show the exact moment of the next try ("reconnecting in 4 s"), and
 * socket.io-client does not expose it.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  baseMs: number;
  /** Upper bound of any delay (ms). */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /** 0..1: share of the delay that is randomised (0.5 = equal jitter). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 1000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * Delay before retry number `attempt` (1-based). `random` is a value in [0, 1);
 * injected so tests are deterministic. The deterministic part grows as
 * `base * factor^(attempt-1)` up to `maxMs`; the jittered part spreads
 * reconnecting clients so a restarted gateway is not hit by all at once.
 */
export function backoffDelay(
  attempt: number,
  random: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = Math.min(options.maxMs, options.baseMs * Math.pow(options.factor, n - 1));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  const r = Math.min(1, Math.max(0, random));
  return Math.round(raw * (1 - jitter) + raw * jitter * r);
}
