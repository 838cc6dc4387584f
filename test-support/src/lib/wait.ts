/**
 * Polling for tests: wait until a condition holds, or fail naming what was awaited. Owns the one
 * `waitFor` every project's tests use; knows nothing of sockets, brokers or processes.
 */

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between checks (default 20 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout error: "timed out after … waiting for <message>". */
  message?: string;
}

/**
 * Calls `check` until it returns a truthy value, and returns that value. A check that throws
 * counts as not yet; its last error is quoted in the timeout error, so a test that times out
 * says why the condition never held.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, message = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : `: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves after `ms` milliseconds: for tests that must let time pass (a quiet period, a tick). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
