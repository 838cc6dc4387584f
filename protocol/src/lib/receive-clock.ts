/*
 * Receive time for readings that carry no `ts`: strictly increasing per device, so two such
 * readings of one device never share a timestamp (and so never overwrite each other in
 * history, which keeps one point per device, metric and ts). Owns the last stamp per device;
 * must not know about transports or storage. Used by the decoder (decode.ts).
 */

/**
 * `next(deviceId, now)` is `now`, or one ms after the device's previous stamp when that is
 * not before `now` (a batch, or several messages in one ms). More than 1,000 readings without
 * `ts` per second from one device run ahead of the clock by the excess (bounded by the ingest
 * rate limits); devices that need exact times send `ts`. Memory: one entry per device stamped
 * at or after the current ms; older entries are dropped when the map doubles.
 */
export class ReceiveClock {
  private readonly last = new Map<string, number>();
  private sweepAt = 1024;

  next(deviceId: string, now: number): number {
    const previous = this.last.get(deviceId);
    const ts = previous !== undefined && previous >= now ? previous + 1 : now;
    this.last.set(deviceId, ts);
    if (this.last.size >= this.sweepAt) this.sweep(now);
    return ts;
  }

  /** Entries older than `now` no longer affect a stamp. */
  private sweep(now: number): void {
    for (const [deviceId, ts] of this.last) if (ts < now) this.last.delete(deviceId);
    this.sweepAt = Math.max(1024, this.last.size * 2);
  }

  get size(): number {
    return this.last.size;
  }
}
