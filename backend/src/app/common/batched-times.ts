/**
 * Times to write in batches: when a credential last connected (a device's, a bridge's), when a
 * token was last used. Each is noted in memory and all are written together (one transaction,
 * one WAL sync) within `flushMs`, so a reconnect storm is not a write per CONNECT or handshake.
 * Owns the pending times and the timer; `write` (a repository's) owns the SQL. Bounded by what
 * may note a time (credentials that exist, tokens that verified), and by `max`: at that many
 * pending, they are written at once. A write that fails is reported to `failed` and its times
 * dropped (they are the newest uses, not data: the next one notes again), never thrown: out of a
 * timer it would end the process, and out of a list asked for it would fail the answer for a
 * time that is a courtesy (the list shows the times written before).
 */
export class BatchedTimes {
  private readonly pending = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly write: (times: ReadonlyMap<string, number>) => void,
    private readonly options: {
      flushMs: number;
      max?: number;
      failed: (error: unknown) => void;
    },
  ) {}

  /** `key` at `at` (now): written with the next batch. */
  note(key: string, at = Date.now()): void {
    this.pending.set(key, at);
    if (this.pending.size >= (this.options.max ?? Infinity)) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.options.flushMs);
    this.timer.unref?.();
  }

  /** A time not to write (its credentials were replaced or revoked). */
  forget(key: string): void {
    this.pending.delete(key);
  }

  /** Write what is pending now (a list is asked for, or the module stops); never throws. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    try {
      this.write(this.pending);
    } catch (error) {
      this.options.failed(error);
    } finally {
      this.pending.clear();
    }
  }
}
