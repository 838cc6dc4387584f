/**
 * Logs at most one line per key per interval; lines held back are counted and the count is
 * appended to the next line that gets through. Keys are bounded by the caller (reject reasons,
 * lag kinds), so the map stays small.
 *
 * In `common/`, the layer below every feature folder (ingest, live, alerts use it): owns no
 * Pulse state and must not import any feature folder.
 */
export class RateLimitedLog {
  private readonly entries = new Map<string, { lastAt: number; suppressed: number }>();

  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  report(key: string, message: string): void {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.lastAt < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.entries.set(key, { lastAt: now, suppressed: 0 });
    this.write(
      suppressed > 0
        ? `${message} (+${suppressed} more "${key}" in the last ${Math.round(this.intervalMs / 1000)} s)`
        : message,
    );
  }
}
