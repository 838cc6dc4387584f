/** Last-connect times are written at most this often, all together (one transaction). */
export const LAST_CONNECT_FLUSH_MS = 5000;

/**
 * Last-connect times of credentials (a device's, a bridge's), held in memory and written in one
 * batch at most every LAST_CONNECT_FLUSH_MS, so a reconnect storm is not a write per CONNECT.
 * Owns the pending times and the timer; `write` (the repository's) owns the SQL. Bounded by the
 * credentials that exist: only an accepted CONNECT of one notes a time.
 */
export class LastConnects {
  private readonly pending = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly write: (times: ReadonlyMap<string, number>) => void) {}

  /** `key` connected now; written with the next batch. */
  note(key: string): void {
    this.pending.set(key, Date.now());
    this.timer ??= setTimeout(() => this.flush(), LAST_CONNECT_FLUSH_MS);
    this.timer.unref?.();
  }

  /** A time not to write (its credentials were replaced or revoked). */
  forget(key: string): void {
    this.pending.delete(key);
  }

  /** Write what is pending now (a list is asked for, or the module stops). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    this.write(this.pending);
    this.pending.clear();
  }
}
