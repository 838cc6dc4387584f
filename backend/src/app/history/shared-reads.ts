/*
 * Identical durable-store reads within one wall-clock second, made once. After a gateway
 * restart every screen reconnects within seconds and asks the same ranges (the fleet, the same
 * window); each ask used to be one store read per series, and hundreds of screens kept the
 * event loop busy for 10 s and more. A read is shared while in flight and kept until its
 * second ends, so a screen gets what a read made now would give, never an older second's.
 * Bounded: at most MAX_SHARED_READS keys and MAX_SHARED_POINTS points kept per second. Past
 * MAX_SHARED_READS a new read is not shared at all; a read past MAX_SHARED_POINTS is shared
 * while in flight, not kept after (docs/limits.md).
 * Owns the slot and the bounds; the sharing is EpochShare's. The caller builds keys that include
 * every argument of the read.
 */
import { EpochShare } from '../common/epoch-share';

/** Distinct reads kept in one second. */
export const MAX_SHARED_READS = 50_000;
/** Points (timestamp + value) the kept reads of one second may hold together (~32 MB). */
export const MAX_SHARED_POINTS = 2_000_000;
/** How long a read is kept: the width of one sharing slot. */
export const SHARED_READ_MS = 1000;

export class SharedReads {
  private readonly reads = new EpochShare<unknown>(MAX_SHARED_READS, MAX_SHARED_POINTS);

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
    return this.reads.share(SharedReads.slotOf(now), key, read, size) as Promise<T>;
  }

  /** Reads made and asks answered by a read already made, since the start. */
  stats(): { made: number; shared: number } {
    return this.reads.stats();
  }
}
