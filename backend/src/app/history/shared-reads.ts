/*
 * Identical durable-store reads within one wall-clock second, made once. After a gateway
 * restart every screen reconnects within seconds and asks the same ranges (the fleet, the same
 * window); each ask used to be one store read per series, and hundreds of screens kept the
 * event loop busy for 10 s and more. A read is shared while in flight and kept until its
 * second ends, so a screen gets what a read made now would give, never an older second's.
 * Bounded: at most MAX_SHARED_READS keys and MAX_SHARED_POINTS points kept per second. Past
 * MAX_SHARED_READS a new read is not shared at all; a read past MAX_SHARED_POINTS is shared
 * while in flight, not kept after (docs/limits.md).
 * Owns the sharing only: the caller builds keys that include every argument of the read.
 */

/** Distinct reads kept in one second. */
export const MAX_SHARED_READS = 50_000;
/** Points (timestamp + value) the kept reads of one second may hold together (~32 MB). */
export const MAX_SHARED_POINTS = 2_000_000;
/** How long a read is kept: the width of one sharing slot. */
export const SHARED_READ_MS = 1000;

export class SharedReads {
  private slot = Number.NaN;
  private reads = new Map<string, Promise<unknown>>();
  private points = 0;
  private counts = { made: 0, shared: 0 };

  /** The slot `now` falls in: its start, a multiple of SHARED_READ_MS. */
  static slotOf(now: number): number {
    return Math.floor(now / SHARED_READ_MS) * SHARED_READ_MS;
  }

  /**
   * `read()`'s promise, or the one an identical `key` started in this slot. `size` tells how
   * many points a result holds (kept results count against MAX_SHARED_POINTS). Callers must
   * not mutate a result: other callers hold the same object.
   */
  share<T>(
    now: number,
    key: string,
    read: () => Promise<T>,
    size: (result: T) => number,
  ): Promise<T> {
    const slot = SharedReads.slotOf(now);
    // A caller whose `now` was taken before an await: its second's reads are already let go.
    if (slot < this.slot) {
      this.counts.made++;
      return read();
    }
    if (slot !== this.slot) {
      this.slot = slot;
      this.reads = new Map();
      this.points = 0;
    }
    const found = this.reads.get(key) as Promise<T> | undefined;
    if (found) {
      this.counts.shared++;
      return found;
    }
    this.counts.made++;
    const promise = read();
    if (this.reads.size >= MAX_SHARED_READS) return promise;
    const reads = this.reads;
    reads.set(key, promise);
    promise.then(
      (result) => {
        if (reads !== this.reads) return; // its second is over: already let go
        this.points += size(result);
        if (this.points > MAX_SHARED_POINTS) {
          this.points -= size(result);
          reads.delete(key);
        }
      },
      () => reads.delete(key), // a failed read is not kept: the next ask tries again
    );
    return promise;
  }

  /** Reads made and asks answered by a read already made, since the start. */
  stats(): { made: number; shared: number } {
    return { ...this.counts };
  }
}
