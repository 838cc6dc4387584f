/**
 * Logs at most one line per key per interval. Lines held back are counted; at the end of the
 * interval in which they were held, the last of them is written with the count (`+N more "key"
 * in the last 10 s`), so a burst of ten refusals leaves two lines at once instead of one line now
 * and its count only when (if ever) the next one comes. Keys are bounded by the caller (reject
 * reasons, lag kinds), so the map and its timers (one per key at most) stay small.
 *
 * In `common/`, the layer below every feature folder (ingest, live, alerts use it): owns no
 * Pulse state and must not import any feature folder.
 */
export class RateLimitedLog {
  private readonly entries = new Map<
    string,
    { lastAt: number; suppressed: number; last: string; cancel: (() => void) | null }
  >();
  private closed = false;

  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
    /** Runs `flush` after `ms` (a timer that never keeps the process alive); returns its cancel. */
    private readonly schedule: (flush: () => void, ms: number) => () => void = (flush, ms) => {
      const timer = setTimeout(flush, ms).unref();
      return () => clearTimeout(timer);
    },
  ) {}

  report(key: string, message: string): void {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.lastAt < this.intervalMs) {
      entry.suppressed++;
      entry.last = message;
      if (!entry.cancel && !this.closed)
        entry.cancel = this.schedule(() => this.flush(key), entry.lastAt + this.intervalMs - now);
      return;
    }
    this.entries.set(key, { lastAt: now, suppressed: 0, last: message, cancel: null });
    this.write(message);
  }

  /**
   * The owner stops: every held-back count is written now (the logger still runs, and a line
   * due in 10 s would be lost at exit or land in whatever runs next in this process), and no
   * timer is left. A report after this is still limited, but never summarised later.
   */
  close(): void {
    this.closed = true;
    for (const [key, entry] of this.entries) {
      entry.cancel?.();
      this.flush(key);
    }
  }

  /** The interval of `key` is over: its last held-back line, with the count, if any. */
  private flush(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.cancel = null;
    if (entry.suppressed === 0) return;
    const seconds = Math.round(this.intervalMs / 1000);
    this.write(`${entry.last} (+${entry.suppressed} more "${key}" in the last ${seconds} s)`);
    // The summary opens the next interval: a line now and then, never a line per event.
    entry.lastAt = this.now();
    entry.suppressed = 0;
  }
}
